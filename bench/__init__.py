"""Benchmarks (see README.md). A package so that gunicorn can load bench.settings and bench.urls."""
