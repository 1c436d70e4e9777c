"""The site's URLs plus /bench/ok: the trivial view whose rate is the ceiling for page benchmarks."""

from django.http import HttpResponse
from django.urls import include, path


def ok(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ok", ok), path("", include("newsreader.urls"))]
