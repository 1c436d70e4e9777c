"""`manage.py release` (collectstatic, then migrate, under a lock) and `make serve`, which never migrates.

Real processes against a new, empty database of the test run's kind (a SQLite file,
or a PostgreSQL database when DATABASE_URL names a server): two releases started at
once, as two app servers would, take turns and apply each migration once.
"""

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import dj_database_url
import pytest
from django.db.migrations.loader import MigrationLoader

from bench.common import free_port
from stories.management.commands.release import RELEASE_LOCK_KEY, sqlite_lock_path
from tests.dbutil import PROJECT, empty_database, manage_env, query, run_manage

pytestmark = pytest.mark.slow

SERVE_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "r3Lease7Kq9Vw2Zb8Nc4Hj6Kd1Fg5Sa0Ue3Yi7Oo2Pl9Mk4Nj8Bh6Gv1Cf5Dx0Ez",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
}


@contextlib.contextmanager
def holding_the_release_lock(database_url):
    """Take the very lock `release` takes, from outside it."""
    settings = dj_database_url.parse(database_url)
    if settings["ENGINE"].endswith("postgresql"):
        import psycopg

        with psycopg.connect(
            dbname=settings["NAME"],
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            autocommit=True,
        ) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", [RELEASE_LOCK_KEY])
            yield
            conn.execute("SELECT pg_advisory_unlock(%s)", [RELEASE_LOCK_KEY])
    else:
        with sqlite_lock_path(settings["NAME"]).open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            yield
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def start_release(database_url, static_root, output):
    env = manage_env(database_url, DJANGO_STATIC_ROOT=str(static_root), DJANGO_PLAIN_STATIC="false")
    with output.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "release"], cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def applied_migrations(database_url):
    code = (
        "import json; from django.db import connection\n"
        "from django.db.migrations.recorder import MigrationRecorder\n"
        "recorder = MigrationRecorder(connection)\n"
        "rows = list(recorder.migration_qs.values_list('app', 'name')) if recorder.has_table() else []\n"
        "print(json.dumps(rows))"
    )
    return [tuple(row) for row in json.loads(query(database_url, code))]


def migrations_on_disk():
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def release_check(database_url, static_root):
    env = {"DJANGO_STATIC_ROOT": str(static_root), "DJANGO_PLAIN_STATIC": "false"}
    return run_manage(database_url, "release", "--check", timeout=120, extra_env=env)


def test_two_releases_at_once_take_turns_and_migrate_once(tmp_path):
    static_root = tmp_path / "static"
    outputs = [tmp_path / "release-1.out", tmp_path / "release-2.out"]
    with empty_database(tmp_path, prefix="release") as url:
        assert applied_migrations(url) == []
        with holding_the_release_lock(url):
            releases = [start_release(url, static_root, output) for output in outputs]
            # Both get as far as the lock, find it taken and wait.
            wait_for(
                lambda: all("Waiting for the release lock" in output.read_text() for output in outputs),
                90,
                "both releases to wait for the lock",
            )
            time.sleep(0.5)
            assert [release.poll() for release in releases] == [None, None], "a release went on without the lock"
            assert applied_migrations(url) == [], "a release migrated without the lock"
        for release in releases:
            release.wait(timeout=300)
        texts = [output.read_text() for output in outputs]
        assert [release.returncode for release in releases] == [0, 0], texts

        applied = applied_migrations(url)
        assert len(applied) == len(set(applied)), "a migration was applied twice"
        assert set(applied) == migrations_on_disk()
        assert release_check(url, static_root).returncode == 0

    # One release migrated; the other, which held the lock only after it, found nothing to do.
    assert sorted("Applying stories.0001_initial" in text for text in texts) == [False, True], texts
    assert sorted("No migrations to apply." in text for text in texts) == [False, True], texts
    # The lock was held by one release at a time: the second took it after the first was done.
    spans = []
    for text in texts:
        taken = re.search(r"Release lock taken at (\S+) \(", text).group(1)
        finished = re.search(r"Release finished at (\S+);", text).group(1)
        spans.append((taken, finished))
    first, second = sorted(spans)
    assert first[1] < second[0], spans
    # Both collected the static files (hashed and compressed), to the same folder, in turn.
    assert (static_root / "staticfiles.json").is_file()
    assert all(re.search(r"\d+ static files? copied", text) for text in texts), texts


def get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_serve_never_migrates_and_serves_after_make_release(tmp_path):
    if not (PROJECT / ".venv" / ".installed").exists():
        pytest.skip("make serve would build .venv first")
    static_root = tmp_path / "static"
    port = free_port()
    with empty_database(tmp_path, prefix="release") as url:
        env = manage_env(url, DJANGO_STATIC_ROOT=str(static_root), **SERVE_ENV)
        for name in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "DJANGO_PLAIN_STATIC", "DJANGO_SECURE_SSL"):
            env.pop(name, None)
        make = ["make", "--no-print-directory", "HOST=127.0.0.1", f"PORT={port}", "WORKERS=1"]

        refused = subprocess.run(
            [*make, "serve"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert refused.returncode != 0
        assert "unapplied migrations" in refused.stderr and "static files not collected" in refused.stderr
        assert "make release" in refused.stderr
        assert applied_migrations(url) == [], "make serve migrated"

        released = subprocess.run(
            [*make, "release"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert released.returncode == 0, released.stdout + released.stderr
        assert set(applied_migrations(url)) == migrations_on_disk()

        server = subprocess.Popen(
            [*make, "serve"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # make and gunicorn in a group of their own, stopped together
        )
        try:
            answers = []

            def healthy():
                try:
                    answers.append(get(f"http://127.0.0.1:{port}/healthz"))
                except OSError:
                    return server.poll() is not None
                return True

            wait_for(healthy, 60, "gunicorn to answer")
            assert server.poll() is None, server.stdout.read()
            # Production settings (HTTPS redirect on), plain HTTP from the balancer: still answered.
            assert answers[-1] == (200, "ok\n")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
