"""Whole-page caching for anonymous readers, made fresh at once when content changes.

Every cached page's key (and every smaller cached piece: cards, directories,
outlet summaries) carries a *generation*. An import, a publish or an unpublish
sends ``content_changed`` once its transaction has committed, which replaces the
generation: every page, list, feed and sitemap is rebuilt on its next request.

The generation must be one value for every process that serves or changes
content, whatever the cache keeps:

* with Redis (``REDIS_URL``, several machines) it lives in Redis, beside the pages;
* otherwise it lives in a small file, ``CONTENT_GENERATION_FILE`` (by default
  beside the SQLite database), that every process on the machine reads: each
  gunicorn worker, an import run in another terminal, the admin. The pages
  themselves stay in each process's local memory under the generation's value,
  so a change made by any process is what every process serves next.

Reading the file costs one open and read (a few microseconds) per call; a bump
writes a new random token to a temporary file and renames it over the old one,
so a reader sees the old or the new value, never half of one, and two bumps at
once cannot both produce the same value.
"""

import hashlib
import logging
import os
import secrets
import tempfile
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpResponsePermanentRedirect
from django.utils.cache import patch_vary_headers
from django.utils.encoding import escape_uri_path

from stories.muting import canonical_mute_url
from stories.signals import content_changed

GENERATION_KEY = "content-generation"
logger = logging.getLogger(__name__)


def generation():
    """The current content generation: a short string, the same in every process."""
    path = settings.CONTENT_GENERATION_FILE
    if path:
        return _read_generation_file(path)
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return str(value)


def _read_generation_file(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):  # nothing has changed since the site was set up
        return "0"
    try:
        return os.read(fd, 64).decode("ascii", "replace").strip() or "0"
    finally:
        os.close(fd)


def _write_generation_file(path):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".content-generation-")
    try:
        os.write(fd, secrets.token_hex(8).encode("ascii"))
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide it from a server running as another user
    except BaseException:
        os.close(fd)
        os.unlink(temporary)
        raise
    os.close(fd)
    os.replace(temporary, path)


@receiver(content_changed)
def bump_generation(**kwargs):
    path = settings.CONTENT_GENERATION_FILE
    if path:
        try:
            _write_generation_file(path)
        except OSError:
            # The change itself is committed; pages catch up within PAGE_CACHE_SECONDS.
            logger.exception("could not write the content generation file %s: cached pages may lag", path)
        return
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): any new value makes old keys unreachable
        cache.set(GENERATION_KEY, 2, timeout=None)


def _is_anonymous(request):
    # Without a session cookie there is no user to load: no query spent.
    return settings.SESSION_COOKIE_NAME not in request.COOKIES or not request.user.is_authenticated


# Every query parameter a cached page reads: the lists' search words, sort, filters
# (StoryFilter's, kept in step by a test) and cursors, the story page's order, a sitemap's page,
# the muted outlets (``mute``: every page, one comma-separated value, see stories/muting.py).
PAGE_PARAMS = frozenset(
    {"q", "sort", "topic", "provider", "mute", "category", "type", "since", "until", "min_quality"}
    | {"after", "before", "order", "p"}
)


def page_key(request):
    """The page cache key of ``request``; None when its page must not be cached.

    The key holds the path and the known, non-empty parameters, sorted (the filter
    form sends its empty fields: they change no page), so the order of parameters
    makes no new entry. A request with an unknown or a repeated parameter is neither
    served from the cache nor stored: a page repeats the whole query in its links
    (pagination's ``{% querystring %}``, filter chips, a feed's link), so one
    reader's made-up parameters must not reach the page every reader gets, and a
    crawl of made-up parameters must not fill the cache.
    """
    query = request.GET
    if not query.keys() <= PAGE_PARAMS or any(len(values) > 1 for _name, values in query.lists()):
        return None
    params = sorted((name, value) for name, value in query.items() if value)
    text = escape_uri_path(request.path) + (f"?{urlencode(params)}" if params else "")  # get_full_path() alike
    return f"page:{generation()}:{hashlib.blake2b(text.encode(), digest_size=16).hexdigest()}"


def cache_public_page(view):
    """Cache a GET view's 200 responses for anonymous readers for PAGE_CACHE_SECONDS, under ``page_key()``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # Muted outlets named any other way (repeated mute=, the old exclude_provider) go to
        # the one ?mute=a,b form: one page, one cache entry, whatever the reader's links said.
        canonical = canonical_mute_url(request) if request.method in ("GET", "HEAD") else None
        if canonical is not None:
            return HttpResponsePermanentRedirect(canonical)
        seconds = settings.PAGE_CACHE_SECONDS
        if seconds <= 0 or request.method not in ("GET", "HEAD") or not _is_anonymous(request):
            return view(request, *args, **kwargs)
        key = page_key(request)
        if key is None:
            return view(request, *args, **kwargs)
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
