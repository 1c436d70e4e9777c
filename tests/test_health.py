"""/healthz, the load balancer's question: may this app server have traffic?

In-process through the whole middleware stack where the settings allow it (the cache
can be swapped per test); in a subprocess with real environment variables where the
database itself must be unreachable: a closed port (connection refused, the server
is down) and a port that accepts connections and never answers (a hung server or a
dropped network), which only the connect timeouts can cut short.
"""

import io
import json
import os
import socket
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from bench.common import free_port
from tests.dbutil import run_manage

HEALTHZ = "/healthz"
SECRET = "hunter2-not-in-any-answer"


def dead_redis_caches(port):
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://:{SECRET}@127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections (the kernel's backlog) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def assert_not_cached(response):
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "no-cache"} <= directives, response["Cache-Control"]


# --- in-process ----------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_ok_when_database_and_cache_answer(client):
    response = client.get(HEALTHZ)
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert_not_cached(response)
    assert not response.cookies


@pytest.mark.django_db
def test_healthz_answers_head_and_refuses_other_methods(client):
    response = client.head(HEALTHZ)
    assert response.status_code == 200 and response.content == b""
    assert_not_cached(response)
    assert client.post(HEALTHZ).status_code == 405


@pytest.mark.django_db
def test_healthz_is_never_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(HEALTHZ)
    assert response.status_code == 200 and response.content == b"ok\n"
    # Everything else still is (the exemption is exactly this path).
    assert client.get("/robots.txt").status_code == 301
    assert client.get("/healthz/").status_code == 301
    assert client.get("/healthzx").status_code == 301


@pytest.mark.django_db
def test_healthz_is_not_throttled_or_locked_out(client, settings):
    # Lock this address out of the admin for one user name: the health check does not care.
    login = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login.post("/admin/login/", {"username": "someone", "password": "wrong"})
    assert login.post("/admin/login/", {"username": "someone", "password": "wrong"}).status_code == 429
    statuses = {client.get(HEALTHZ).status_code for _ in range(50)}
    assert statuses == {200}
    call_command("axes_reset", stdout=io.StringIO())


@pytest.mark.django_db
def test_healthz_is_not_served_from_the_page_cache(client, settings):
    settings.PAGE_CACHE_SECONDS = 600
    assert client.get(HEALTHZ).status_code == 200
    with override_settings(CACHES=dead_redis_caches(free_port())):
        response = client.get(HEALTHZ)
    assert response.status_code == 503, "a cached 'ok' was served"


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_is_down(client):
    with override_settings(CACHES=dead_redis_caches(free_port())):
        started = time.monotonic()
        response = client.get(HEALTHZ)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.content == b"cache: unavailable\n"
    assert_not_cached(response)
    assert elapsed < 5


@pytest.mark.django_db
def test_healthz_is_503_within_the_timeout_when_the_cache_hangs(client, silent_port):
    with override_settings(CACHES=dead_redis_caches(silent_port)):
        started = time.monotonic()
        response = client.get(HEALTHZ)
        elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.content == b"cache: unavailable\n"
    assert elapsed < 4, f"took {elapsed:.1f} s with a 1 s socket timeout"


@pytest.mark.django_db
def test_healthz_is_ok_with_a_real_redis(client):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("no Redis server (TEST_REDIS_URL is set by .ci/run)")
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    with override_settings(CACHES=caches):
        response = client.get(HEALTHZ)
    assert response.status_code == 200 and response.content == b"ok\n"


@pytest.mark.django_db(transaction=True)
def test_healthz_drops_a_broken_database_connection_and_recovers(client):
    if connection.vendor != "postgresql":
        pytest.skip("closing an in-memory SQLite database's connection would lose the test database")
    assert client.get(HEALTHZ).status_code == 200
    connection.health_check_done = True  # no check before the next query, as later in a request
    connection.connection.close()  # the server went away under the open connection
    assert client.get(HEALTHZ).content == b"database: unavailable\n"
    assert client.get(HEALTHZ).content == b"ok\n", "the broken connection was kept"


# --- real settings in a subprocess: an unreachable database --------------------------

PROBE = """
import json, time
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
print(json.dumps({
    "status": response.status_code,
    "body": response.content.decode(),
    "cache_control": response["Cache-Control"],
    "seconds": time.monotonic() - started,
}))
"""


def probe(database_url, **extra):
    """GET /healthz in a fresh process whose settings come from these variables (no Redis unless given)."""
    result = run_manage(
        database_url, "shell", "--no-imports", "-v", "0", "-c", PROBE, timeout=60, extra_env={"REDIS_URL": "", **extra}
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return answer, result.stderr


def assert_nothing_secret(answer, port):
    assert SECRET not in answer["body"]
    assert "127.0.0.1" not in answer["body"] and str(port) not in answer["body"]


@pytest.mark.slow
def test_healthz_is_503_at_once_when_postgresql_is_down(tmp_path):
    port = free_port()  # nothing listens: connection refused, as from a stopped server
    answer, log = probe(f"postgres://newsreader:{SECRET}@127.0.0.1:{port}/newsreader")
    assert answer["status"] == 503
    assert answer["body"] == "database: unavailable\n"
    assert "no-store" in answer["cache_control"]
    assert answer["seconds"] < 5
    assert_nothing_secret(answer, port)
    assert "healthz: database unavailable" in log and SECRET not in log


@pytest.mark.slow
def test_healthz_is_503_within_the_connect_timeout_when_postgresql_hangs(silent_port):
    answer, _ = probe(
        f"postgres://newsreader:{SECRET}@127.0.0.1:{silent_port}/newsreader", DATABASE_CONNECT_TIMEOUT="2"
    )
    assert answer["status"] == 503 and answer["body"] == "database: unavailable\n"
    assert 1.5 < answer["seconds"] < 5, answer["seconds"]
    assert_nothing_secret(answer, silent_port)


@pytest.mark.slow
def test_healthz_names_each_service_down(tmp_path):
    database_port, cache_port = free_port(), free_port()
    answer, _ = probe(
        f"postgres://newsreader:{SECRET}@127.0.0.1:{database_port}/newsreader",
        REDIS_URL=f"redis://:{SECRET}@127.0.0.1:{cache_port}/0",
    )
    assert answer["status"] == 503
    assert answer["body"] == "database: unavailable\ncache: unavailable\n"
    assert answer["seconds"] < 5
    assert_nothing_secret(answer, database_port)


@pytest.mark.slow
def test_healthz_is_503_within_the_timeout_when_redis_hangs(tmp_path, silent_port):
    answer, _ = probe(
        f"sqlite:///{tmp_path / 'db.sqlite3'}", REDIS_URL=f"redis://127.0.0.1:{silent_port}/0", REDIS_TIMEOUT="1"
    )
    assert answer["status"] == 503 and answer["body"] == "cache: unavailable\n"
    assert answer["seconds"] < 4, answer["seconds"]
