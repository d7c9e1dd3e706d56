"""The project's URLs, plus the bare view every page is measured against."""

from django.http import HttpResponse
from django.urls import path

from concierge.urls import urlpatterns as project_urls


def hello(request):
    return HttpResponse(b"hello", content_type="text/plain")


urlpatterns = [path("bench/hello/", hello), *project_urls]
