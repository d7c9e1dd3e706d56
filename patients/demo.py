"""Demo data for the patients app, called by `manage.py seed_demo` after the demo users exist.

`seed(users, lines)`: users maps the demo emails to User rows; append a line to `lines` for each
thing worth printing. Must be idempotent: running it twice gives the same data.
"""


def seed(users, lines):
    pass
