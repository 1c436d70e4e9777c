"""Prepare a release: collect the static files, then migrate, once, under a lock.

    python manage.py release            # collectstatic --no-input, then migrate --no-input
    python manage.py release --check    # exit 1 if a release is still due (for `make serve`)

Run it on every app server before its gunicorn starts (or once, anywhere, for the
database): releases started at the same time take turns. The lock is
- on PostgreSQL, the session advisory lock RELEASE_LOCK_KEY
  (``pg_advisory_lock``), held on a connection of its own for the whole release;
- on SQLite, an exclusive ``flock`` on the file ``<database>.release-lock``
  beside the database (processes on one machine share a SQLite file, so they
  share the lock file too).
The second release waits for the first, then finds nothing left to migrate.
Gunicorn never migrates: `make serve` only checks that the release was done.
"""

import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

# Any fixed 64-bit number, the same in every release: "newsrel" in ASCII.
RELEASE_LOCK_KEY = 0x6E6577_7372656C


def _now():
    return datetime.now(UTC).isoformat(timespec="microseconds")


@contextlib.contextmanager
def _postgresql_lock(alias, say):
    # A connection of its own: whatever migrate does with the default connection,
    # the lock stays held until this one unlocks (or dies, which also unlocks).
    lock_connection = connections.create_connection(alias)
    try:
        with lock_connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RELEASE_LOCK_KEY])
            if not cursor.fetchone()[0]:
                say("Waiting for the release lock: another release is running...")
                cursor.execute("SELECT pg_advisory_lock(%s)", [RELEASE_LOCK_KEY])
        try:
            yield f"PostgreSQL advisory lock {RELEASE_LOCK_KEY}"
        finally:
            with lock_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RELEASE_LOCK_KEY])
    finally:
        lock_connection.close()


def sqlite_lock_path(name):
    """The lock file of the SQLite database file `name`: beside it."""
    return Path(f"{name}.release-lock")


@contextlib.contextmanager
def _sqlite_lock(name, say):
    import fcntl

    path = sqlite_lock_path(name)
    with path.open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("Waiting for the release lock: another release is running...")
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield f"lock file {path}"
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def release_lock(alias=DEFAULT_DB_ALIAS, say=lambda message: None):
    """The lock two releases against the same database take turns on."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        return _postgresql_lock(alias, say)
    name = str(connection.settings_dict["NAME"] or "")
    if connection.vendor == "sqlite" and name and ":memory:" not in name and "mode=memory" not in name:
        return _sqlite_lock(name, say)
    # An in-memory SQLite database belongs to one process: nobody to take turns with.
    return contextlib.nullcontext("no lock (a private database)")


def unapplied_migrations(alias=DEFAULT_DB_ALIAS):
    executor = MigrationExecutor(connections[alias])
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def static_files_missing():
    """True if the static storage needs a manifest (hashed names) that collectstatic has not written."""
    read_manifest = getattr(staticfiles_storage, "read_manifest", None)
    return read_manifest is not None and read_manifest() is None


class Command(BaseCommand):
    help = (
        "Collect the static files and apply the database migrations, under a lock so that releases "
        "started at the same time (one per app server) take turns and migrate once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit 1 if there are unapplied migrations or the static files were not collected.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database to migrate (default: default).")

    def handle(self, *args, check=False, database=DEFAULT_DB_ALIAS, verbosity=1, **options):
        if check:
            self.check_released(database)
            return

        def say(message):
            if verbosity >= 1:
                self.stdout.write(message)
                self.stdout.flush()

        start = time.monotonic()
        with release_lock(database, say) as lock:
            say(f"Release lock taken at {_now()} ({lock}, waited {time.monotonic() - start:.1f} s).")
            call_command("collectstatic", interactive=False, verbosity=verbosity, stdout=self.stdout)
            call_command("migrate", database=database, interactive=False, verbosity=verbosity, stdout=self.stdout)
            say(f"Release finished at {_now()}; releasing the lock.")
        say(f"Release done in {time.monotonic() - start:.1f} s.")

    def check_released(self, database):
        problems = []
        plan = unapplied_migrations(database)
        if plan:
            problems.append(f"{len(plan)} unapplied migration{'s' if len(plan) != 1 else ''}")
        if static_files_missing():
            problems.append("static files not collected")
        if problems:
            raise CommandError(
                f"Not released: {', '.join(problems)}. Run `make release` (python manage.py release) first."
            )
        self.stdout.write("Released: migrations applied, static files collected.")
