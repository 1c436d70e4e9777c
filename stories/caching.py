"""Whole-page caching for anonymous readers, made fresh at once when content changes.

Every cached page's key carries a *generation* number kept in the cache. An
import, a publish or an unpublish sends ``content_changed``, which bumps the
generation: every page, list and feed is rebuilt on its next request, on every
app server sharing the cache (Redis in production).
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.dispatch import receiver
from django.utils.cache import patch_vary_headers

from stories.signals import content_changed

GENERATION_KEY = "content-generation"


def generation():
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return value


@receiver(content_changed)
def bump_generation(**kwargs):
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): any new value makes old keys unreachable
        cache.set(GENERATION_KEY, 2, timeout=None)


def _is_anonymous(request):
    # Without a session cookie there is no user to load: no query spent.
    return settings.SESSION_COOKIE_NAME not in request.COOKIES or not request.user.is_authenticated


def cache_public_page(view):
    """Cache a GET view's 200 responses for anonymous readers for PAGE_CACHE_SECONDS."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = settings.PAGE_CACHE_SECONDS
        if seconds <= 0 or request.method not in ("GET", "HEAD") or not _is_anonymous(request):
            return view(request, *args, **kwargs)
        path = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
        key = f"page:{generation()}:{path}"
        cached = cache.get(key)
        if cached is not None:
            return cached
        response = view(request, *args, **kwargs)
        cacheable = response.status_code == 200 and not response.streaming and not response.cookies
        if cacheable and not response.has_header("Cache-Control"):
            patch_vary_headers(response, ["Cookie"])
            if hasattr(response, "render") and callable(response.render):
                response.add_post_render_callback(lambda r: cache.set(key, r, seconds))
            else:
                cache.set(key, response, seconds)
        return response

    return wrapper
