"""A throwaway database of the same kind as the test run's, for tests that start subprocesses.

pytest-django's SQLite test database lives in memory, out of a subprocess's reach,
so such tests get their own file (or their own PostgreSQL database) and migrate it.
"""

import contextlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.db import connection

PROJECT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def empty_database(tmp_path, prefix="scratch"):
    """Yields a DATABASE_URL for a new database with no table at all; drops it afterwards."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / f'{prefix}.sqlite3'}"
        return
    import psycopg

    params = connection.settings_dict
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = dict(
        host=params["HOST"] or None, port=params["PORT"] or None, user=params["USER"], password=params["PASSWORD"]
    )
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{params['USER']}:{params['PASSWORD'] or ''}@{params['HOST']}:{params['PORT']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_database(tmp_path):
    """Yields a DATABASE_URL for a new, migrated database; drops it afterwards."""
    with empty_database(tmp_path) as url:
        run_manage(url, "migrate", "--no-input", "-v", "0", check=True)
        yield url


def manage_env(database_url, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="newsreader.settings", **extra)
    return env


def run_manage(database_url, *args, check=False, timeout=300, extra_env=None, **kw):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=manage_env(database_url, **(extra_env or {})),
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
        **kw,
    )


def start_manage(database_url, *args):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=manage_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def query(database_url, code):
    """Run Python in a Django shell against the scratch database; returns its stdout."""
    return run_manage(database_url, "shell", "--no-imports", "-v", "0", "-c", code, check=True).stdout.strip()
