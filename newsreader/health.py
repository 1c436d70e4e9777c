"""/healthz: may the load balancer send this app server traffic?

200 "ok" when the database answers ``SELECT 1`` and the cache gives back a value just
set in it; 503 with one line per failing service ("database: unavailable",
"cache: unavailable") otherwise. The response names no host, user or error text (the
log gets the error), is never cached, and answers within the connect timeouts
(DATABASE_CONNECT_TIMEOUT, REDIS_TIMEOUT) when a server is down.
"""

import contextlib
import logging
import secrets
import threading
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

# One key per process and thread: app servers sharing a cache never read each other's value.
_PROCESS = uuid.uuid4().hex


def database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as error:  # any failure means "not available"; the reason goes to the log only
        log.warning("healthz: database unavailable: %s: %s", type(error).__name__, error)
        # Drop a broken connection now: the next check connects afresh and sees the server back.
        with contextlib.suppress(Exception):
            connection.close()
        return False


def cache_ok():
    key = f"healthz:{_PROCESS}:{threading.get_ident()}"
    token = secrets.token_hex(8)
    try:
        cache.set(key, token, timeout=30)
        return cache.get(key) == token
    except Exception as error:  # as above
        log.warning("healthz: cache unavailable: %s: %s", type(error).__name__, error)
        return False


@never_cache
@require_safe
def healthz(request):
    problems = [f"{name}: unavailable" for name, ok in (("database", database_ok()), ("cache", cache_ok())) if not ok]
    body = "\n".join(problems or ["ok"]) + "\n"
    return HttpResponse(body, status=503 if problems else 200, content_type="text/plain; charset=utf-8")
