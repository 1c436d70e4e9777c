"""Settings read from the environment: safe local defaults, strict production."""

import json
import subprocess
import sys

import pytest

from tests.dbutil import PROJECT

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x7Qv2mL9pR4tW8zB1nC6kD3fH5jS0aE2yU7iO9pL4qM8wN1xZ6vT3rG5hJ0kF2dS",
    "DJANGO_ALLOWED_HOSTS": "news.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://news.example.com",
    "PATH": "/usr/bin:/bin",
}


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_off_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_off_refuses_a_short_secret_key():
    result = manage("check", env={**PRODUCTION, "DJANGO_SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_local_development_needs_no_variables(settings):
    result = manage("check", env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr


def test_sqlite_is_configured_for_concurrent_writers():
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert database["OPTIONS"]["timeout"] >= 5
        assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
        assert "synchronous=NORMAL" in database["OPTIONS"]["init_command"]


def test_times_are_stored_in_utc():
    from django.conf import settings

    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "UTC"


# --- several machines: proxies, timeouts, /healthz -----------------------------------

SEVERAL_MACHINES = {
    **PRODUCTION,
    "DATABASE_URL": "postgres://newsreader:secret@db.internal:5432/newsreader",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "TRUSTED_PROXY_COUNT": "1",
}
SHOW = (
    "import json; from django.conf import settings; d = settings.DATABASES['default']; "
    "print(json.dumps({'db': d.get('OPTIONS', {}), 'cache': settings.CACHES['default'].get('OPTIONS', {}), "
    "'proxies': settings.TRUSTED_PROXY_COUNT, 'ip': settings.AXES_CLIENT_IP_CALLABLE, "
    "'exempt': settings.SECURE_REDIRECT_EXEMPT, 'redirect': settings.SECURE_SSL_REDIRECT}))"
)


def show_settings(**env):
    result = manage("shell", "--no-imports", "-v", "0", "-c", SHOW, env={**SEVERAL_MACHINES, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_several_machines_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=SEVERAL_MACHINES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_dead_servers_are_given_up_on_after_a_few_seconds():
    shown = show_settings()
    assert shown["db"]["connect_timeout"] == 3
    assert shown["cache"] == {"socket_connect_timeout": 2.0, "socket_timeout": 2.0}
    shown = show_settings(DATABASE_CONNECT_TIMEOUT="5", REDIS_TIMEOUT="0.5")
    assert shown["db"]["connect_timeout"] == 5
    assert shown["cache"] == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    # An explicit connect_timeout in the database URL wins.
    url = SEVERAL_MACHINES["DATABASE_URL"] + "?connect_timeout=7"
    assert str(show_settings(DATABASE_URL=url)["db"]["connect_timeout"]) == "7"


def test_the_client_address_comes_from_the_trusted_proxies_and_healthz_is_not_redirected():
    shown = show_settings()
    assert shown["proxies"] == 1 and shown["ip"] == "newsreader.proxy.client_ip"
    assert shown["redirect"] is True and shown["exempt"] == ["^healthz$"]
    assert show_settings(TRUSTED_PROXY_COUNT="")["proxies"] == 0


@pytest.mark.parametrize("value", ["-1", "one", "1.5", "²"])
def test_a_bad_trusted_proxy_count_refuses_to_start(value):
    result = manage("check", env={**SEVERAL_MACHINES, "TRUSTED_PROXY_COUNT": value})
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be a whole number" in result.stderr
