"""Site-wide template context and absolute URLs (settings.SITE_URL when set, else the request's host)."""

from django.conf import settings


def absolute_url(request, path):
    """``path`` (starting with /) as an absolute URL on this site."""
    if settings.SITE_URL:
        return f"{settings.SITE_URL}{path}"
    if request is None:
        return path
    return request.build_absolute_uri(path)


def site(request):
    """Cheap, query-free values every page may use (also under the 404 page)."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "site_url": absolute_url(request, "/"),
    }
