"""Faults around an import, in real processes on the test run's kind of database.

- The database locked by another writer past the busy timeout: the documents that
  meet the lock fail, one clear line each, the others import, nothing partial is left.
- The disk full (SQLite): the same, for the documents that do not fit.
- Reading while importing: pages keep serving, all 200, while an import writes.

(Killed mid-import: tests/test_importer.py; killed after its last commit, before the recount:
tests/test_counts.py. Two imports at once: tests/test_concurrency.py.)
"""

import os
import queue
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from bench.make_corpus import write_corpus
from tests.dbutil import PROJECT, manage_env, run_manage, scratch_database

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SUMMARY = re.compile(r"created (\d+), updated (\d+), unchanged (\d+), failed (\d+)")


def sqlite_path(url):
    return url.removeprefix("sqlite:///")


def summary(stdout):
    match = SUMMARY.search(stdout)
    assert match, stdout
    return dict(zip(("created", "updated", "unchanged", "failed"), map(int, match.groups()), strict=True))


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("warning: ")]


class Streamed:
    """A subprocess whose stdout and stderr are read line by line as they come (no pipe ever fills)."""

    def __init__(self, args, env):
        self.proc = subprocess.Popen(
            args, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self.out, self.err, self.errors = [], [], queue.Queue()
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, None), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, self.errors), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _pump(stream, lines, notify):
        for line in stream:
            lines.append(line.rstrip("\n"))
            if notify is not None and not line.startswith("warning: "):
                notify.put(line.rstrip("\n"))

    def wait_for_errors(self, count, timeout):
        """The first ``count`` error lines, or fewer if the process ends or time runs out."""
        found, deadline = [], time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            try:
                found.append(self.errors.get(timeout=0.2))
            except queue.Empty:
                if self.proc.poll() is not None and self.errors.empty():
                    break
        return found

    def finish(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        for thread in self._threads:
            thread.join(timeout=5)
        return self.proc.returncode, "\n".join(self.out), "\n".join(self.err)


def connect(url):
    """A plain DB-API connection to the scratch database ``url`` (SQLite file or PostgreSQL)."""
    if url.startswith("sqlite"):
        return sqlite3.connect(sqlite_path(url))
    import psycopg

    return psycopg.connect(url)


def stories_state(url):
    """(story source files, [(story, coverage_count, coverage rows, topic rows, document rows)])."""
    conn = connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT source_file FROM stories_story")
        files = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT s.id, s.coverage_count,"
            " (SELECT COUNT(*) FROM stories_coverage c WHERE c.story_id = s.id),"
            " (SELECT COUNT(*) FROM stories_story_topics t WHERE t.story_id = s.id),"
            " (SELECT COUNT(*) FROM stories_importeddocument d WHERE d.story_id = s.id)"
            " FROM stories_story s"
        )
        rows = cursor.fetchall()
        cursor.execute("SELECT source_file FROM stories_importeddocument")
        documents = {row[0] for row in cursor.fetchall()}
    finally:
        conn.close()
    return files, rows, documents


def assert_whole_stories_only(url):
    """Every stored story has all its coverage, at least one topic and its document row."""
    files, rows, documents = stories_state(url)
    for _story, coverage_count, coverage_rows, topic_rows, document_rows in rows:
        assert coverage_count == coverage_rows
        assert topic_rows >= 1 and document_rows >= 1
    assert documents == files
    return files


def assert_sqlite_intact(url):
    conn = sqlite3.connect(sqlite_path(url))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


# --- the database locked by another writer past the timeout ------------------------


class WriteLock:
    """Another connection holding the database's write lock (SQLite) or an exclusive table lock (PostgreSQL)."""

    def __init__(self, url):
        if url.startswith("sqlite"):
            self.conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")  # WAL: readers go on, no other writer gets in
        else:
            import psycopg

            self.conn = psycopg.connect(url)
            # The importer's first statement on articles waits, then gives up at lock_timeout.
            self.conn.execute("LOCK TABLE stories_article IN ACCESS EXCLUSIVE MODE")

    def release(self):
        if self.conn is None:
            return
        if isinstance(self.conn, sqlite3.Connection):
            self.conn.execute("ROLLBACK")
        else:
            self.conn.rollback()
        self.conn.close()
        self.conn = None


def timeout_env(url):
    """The importer waits one second for a lock, not the production 20 (SQLITE_TIMEOUT, or lock_timeout)."""
    if url.startswith("sqlite"):
        return {"SQLITE_TIMEOUT": "1"}
    return {"PGOPTIONS": "-c lock_timeout=1000"}


LOCKED_MESSAGE = {"sqlite": "database: database is locked", "postgresql": "database: canceling statement due to lock"}
RERUN_ADVICE = "run the command again (it recounts every topic and outlet even when no file changed)"


def test_documents_that_meet_a_lock_held_past_the_timeout_fail_clearly_and_the_rest_import(tmp_path):
    """A writer holds the lock through the first two documents' attempts (one per batch, each tried
    three times), then lets go: those fail with one line each naming the file, the others import,
    nothing partial is stored, and a second run imports the failed ones."""
    paths = write_corpus(tmp_path / "corpus", 10, seed=11, related=(2, 6), all_published=True)
    with scratch_database(tmp_path) as url:
        lock = WriteLock(url)
        try:
            env = manage_env(url, **timeout_env(url))
            run = Streamed(
                [
                    sys.executable,
                    "manage.py",
                    "import_stories",
                    "-v",
                    "0",
                    "--batch-size",
                    "1",
                    str(tmp_path / "corpus"),
                ],
                env,
            )
            first = run.wait_for_errors(2, timeout=60)
        finally:
            lock.release()
        status, out, err = run.finish(timeout=120)

        assert len(first) == 2, err
        assert status == 1
        assert "Traceback" not in err
        errors = error_lines(err)
        message = LOCKED_MESSAGE[connection.vendor]
        failed_files = []
        for line in errors:
            path, _, problem = line.partition(": ")
            assert path in {str(p) for p in paths}, line
            assert problem.startswith(message), line
            failed_files.append(path)
        assert failed_files[:2] == [str(paths[0]), str(paths[1])]  # the lock was held through these
        counts = summary(out)
        assert counts["failed"] == len(errors) >= 2
        assert counts["created"] == len(paths) - counts["failed"]

        stored = assert_whole_stories_only(url)
        assert stored == {str(p) for p in paths} - set(failed_files)
        if url.startswith("sqlite"):
            assert_sqlite_intact(url)

        rerun = run_manage(url, "import_stories", "-v", "0", str(tmp_path / "corpus"))
        assert rerun.returncode == 0, rerun.stderr
        assert error_lines(rerun.stderr) == []
        assert assert_whole_stories_only(url) == {str(p) for p in paths}
        if url.startswith("sqlite"):
            assert_sqlite_intact(url)


def test_a_lock_held_through_the_whole_import_fails_every_document_clearly_and_stores_nothing(tmp_path):
    paths = write_corpus(tmp_path / "corpus", 2, seed=12, related=(1, 3), all_published=True)
    with scratch_database(tmp_path) as url:
        lock = WriteLock(url)
        try:
            result = subprocess.run(
                [sys.executable, "manage.py", "import_stories", "-v", "0", str(tmp_path / "corpus")],
                cwd=PROJECT,
                env=manage_env(url, **timeout_env(url)),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            lock.release()
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        message = LOCKED_MESSAGE[connection.vendor]
        errors = error_lines(result.stderr)
        if connection.vendor == "postgresql":  # the recount reads articles too: it meets the lock as well
            recount = errors.pop()
            assert recount.startswith(f"refreshing counts: {message}"), recount
            assert recount.endswith(f"; {RERUN_ADVICE}") and "imported" not in recount, recount
        assert len(errors) == len(paths), result.stderr
        for line, path in zip(errors, paths, strict=True):
            assert line.startswith(f"{path}: {message}"), line
        assert summary(result.stdout) == {"created": 0, "updated": 0, "unchanged": 0, "failed": 2}
        assert assert_whole_stories_only(url) == set()
        if url.startswith("sqlite"):
            assert_sqlite_intact(url)


# Holds the lock from the moment the documents are written until after the busy timeout: the
# wrapper says when the post-import count refresh starts (and gives the test time to take the lock).
LOCK_AT_COUNTS_IMPORT = """
import sys, time
import django
django.setup()
import stories.importer.runner as runner

refresh = runner.refresh_counts
def announced_refresh(*args, **kwargs):
    print("refreshing counts", file=sys.stderr, flush=True)
    time.sleep(0.5)
    return refresh(*args, **kwargs)
runner.refresh_counts = announced_refresh
from django.core.management import call_command
call_command("import_stories", *sys.argv[1:])
"""


def test_a_lock_met_while_refreshing_counts_after_the_writes_ends_with_a_clear_message(tmp_path):
    paths = write_corpus(tmp_path / "corpus", 4, seed=14, related=(1, 3), all_published=True)
    with scratch_database(tmp_path) as url:
        run = Streamed(
            [sys.executable, "-c", LOCK_AT_COUNTS_IMPORT, str(tmp_path / "corpus")], manage_env(url, **timeout_env(url))
        )
        lock = None
        try:
            assert run.wait_for_errors(1, timeout=60) == ["refreshing counts"]
            lock = WriteLock(url)
            status, out, err = run.finish(timeout=60)
        finally:
            if lock is not None:
                lock.release()
        assert assert_whole_stories_only(url) == {str(p) for p in paths}  # the documents were committed
        assert "Traceback" not in err, err[-800:]
        assert summary(out)["created"] == 4
        # Every count needed writing (a fresh database), so the recount met the lock and said so.
        assert status == 1
        [line] = [line for line in error_lines(err) if line != "refreshing counts"]
        assert line.startswith(f"refreshing counts: {LOCKED_MESSAGE[connection.vendor]}"), line
        assert line.endswith(f"; the stories are imported; {RERUN_ADVICE}"), line

        # As the message says: a re-run, every file unchanged, stores the counts.
        rerun = run_manage(url, "import_stories", "-v", "2", str(tmp_path / "corpus"))
        assert rerun.returncode == 0, rerun.stderr
        assert summary(rerun.stdout) == {"created": 0, "updated": 0, "unchanged": 4, "failed": 0}
        assert re.search(r"counts: [1-9]\d* topics and [1-9]\d* outlets corrected", rerun.stdout), rerun.stdout
        assert stored_counts_are_right(url)


def stored_counts_are_right(url):
    """Every topic's and outlet's stored count equals a recount of the published stories."""
    conn = connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT t.slug, t.story_count, (SELECT COUNT(*) FROM stories_story_topics st"
            " JOIN stories_story s ON s.id = st.story_id WHERE st.topic_id = t.id AND s.published)"
            " FROM stories_topic t"
        )
        topics = cursor.fetchall()
        cursor.execute(
            "SELECT p.slug, p.led_count, p.covered_count,"
            " (SELECT COUNT(*) FROM stories_story s JOIN stories_article a ON a.id = s.lead_id"
            "  WHERE a.provider_id = p.id AND s.published),"
            " (SELECT COUNT(DISTINCT c.story_id) FROM stories_coverage c JOIN stories_article a ON a.id = c.article_id"
            "  JOIN stories_story s ON s.id = c.story_id WHERE a.provider_id = p.id AND s.published)"
            " FROM stories_provider p"
        )
        providers = cursor.fetchall()
    finally:
        conn.close()
    assert topics and providers
    assert [row for row in topics if row[1] != row[2]] == []
    assert [row for row in providers if (row[1], row[2]) != (row[3], row[4])] == []
    return True


# --- disk full -----------------------------------------------------------------------

# SQLite reports a full disk and a database at its size cap the same way (SQLITE_FULL,
# "database or disk is full"), so capping the database's size with max_page_count runs the
# importer's disk-full path without filling a real disk.
DISK_FULL_IMPORT = """
import sys
import django
django.setup()
from django.core.management import call_command
from django.db.backends.signals import connection_created

def cap(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.execute(f"PRAGMA max_page_count = {int(sys.argv[1])}")

connection_created.connect(cap)
call_command("import_stories", *sys.argv[2:])
"""


def page_count(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()


def checkpoint(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def test_when_the_disk_fills_the_documents_that_do_not_fit_fail_clearly_and_the_database_stays_intact(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no per-database size cap to fill deterministically")
    paths = write_corpus(tmp_path / "corpus", 12, seed=13, related=(4, 10), all_published=True)
    with scratch_database(tmp_path) as url:
        db = sqlite_path(url)
        checkpoint(db)
        # How many pages the whole corpus needs, measured on a copy; the cap leaves room for about half.
        probe = tmp_path / "probe.sqlite3"
        shutil.copy(db, probe)
        assert run_manage(f"sqlite:///{probe}", "import_stories", "-v", "0", str(tmp_path / "corpus")).returncode == 0
        checkpoint(str(probe))
        before, needed = page_count(db), page_count(str(probe)) - page_count(db)
        assert needed > 10
        cap = before + needed // 2

        result = subprocess.run(
            [
                sys.executable,
                "-c",
                DISK_FULL_IMPORT,
                str(cap),
                "-v",
                "0",
                "--batch-size",
                "4",
                str(tmp_path / "corpus"),
            ],
            cwd=PROJECT,
            env=manage_env(url),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        errors = error_lines(result.stderr)
        assert errors, result.stderr
        failed_files = []
        for line in errors:
            path, _, problem = line.partition(": ")
            assert path in {str(p) for p in paths}, line
            assert problem == "database: database or disk is full", line
            failed_files.append(path)
        counts = summary(result.stdout)
        assert counts["failed"] == len(errors)
        assert counts["created"] == len(paths) - len(errors) > 0, "the first documents fit"
        assert str(paths[0]) not in failed_files

        assert_sqlite_intact(url)
        stored = assert_whole_stories_only(url)
        assert stored == {str(p) for p in paths} - set(failed_files)
        assert page_count(db) <= cap

        # With room again, a second run imports the rest.
        rerun = run_manage(url, "import_stories", "-v", "0", str(tmp_path / "corpus"))
        assert rerun.returncode == 0, rerun.stderr
        assert assert_whole_stories_only(url) == {str(p) for p in paths}
        assert_sqlite_intact(url)


# --- reading while importing -------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url, timeout=10):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
            return response.status, time.monotonic() - started, body
    except urllib.error.HTTPError as exc:
        return exc.code, time.monotonic() - started, exc.read()


def story_count(url):
    conn = connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT COUNT(*) FROM stories_story")
        return cursor.fetchone()[0]
    finally:
        conn.close()


SERVER_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "r5Tq8wY2uI4oP6aS8dF0gH2jK4lZ6xC8vB0nM2qW4eR6tY8uI0oP2aS4dF6gH8jK",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL": "false",
    "DJANGO_PLAIN_STATIC": "true",
    "PAGE_CACHE_SECONDS": "0",  # every request reads the database
}


def test_pages_keep_serving_while_an_import_runs(tmp_path):
    paths = write_corpus(tmp_path / "corpus", 1530, seed=21, all_published=True)
    first, rest = tmp_path / "first", tmp_path / "rest"
    for folder, chunk in ((first, paths[:30]), (rest, paths[30:])):
        folder.mkdir()
        for path in chunk:
            shutil.copy(path, folder / path.name)

    with scratch_database(tmp_path) as url:
        assert run_manage(url, "import_stories", "-v", "0", str(first)).returncode == 0
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "newsreader.wsgi", "--workers", "2",
             "--threads", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--log-level", "warning"],
            cwd=PROJECT,
            env=manage_env(url, **SERVER_ENV),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    status, _, body = fetch(base + "/", timeout=2)
                    if status == 200:
                        break
                except OSError:
                    pass
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            story = re.search(rb'href="(/story/\d+-[^"]+/)"', body).group(1).decode()
            pages = ["/", "/topics/", story, "/providers/", "/search/?q=model", "/?sort=top"]

            importer = subprocess.Popen(
                [sys.executable, "manage.py", "import_stories", "-v", "0", "--batch-size", "50", str(rest)],
                cwd=PROJECT,
                env=manage_env(url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            results, lock = [], threading.Lock()
            stop, stored = threading.Event(), [0]

            def monitor():  # how far the import has got, sampled from its own connection
                while not stop.is_set() and importer.poll() is None:
                    stored[0] = story_count(url)
                    time.sleep(0.2)

            def reader(offset):
                index = offset
                while not stop.is_set():
                    page = pages[index % len(pages)]
                    index += 1
                    try:
                        status, elapsed, _ = fetch(base + page)
                    except OSError as exc:
                        status, elapsed = f"error: {exc}", None
                    with lock:
                        results.append((page, status, elapsed, importer.poll() is None, stored[0]))

            threads = [threading.Thread(target=monitor, daemon=True)]
            threads += [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(3)]
            for thread in threads:
                thread.start()
            try:
                out, err = importer.communicate(timeout=120)
            finally:
                time.sleep(0.5)  # a few requests after the import, too
                stop.set()
                for thread in threads:
                    thread.join(timeout=15)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()

        assert importer.returncode == 0, err
        assert out == "" and err == ""  # -v 0: nothing to say when every document imported
        assert story_count(url) == 1530
        bad = [row for row in results if row[1] != 200]
        assert not bad, bad[:5]
        # Requests that ran while the import was half done: it had written some stories, not all.
        during = [row for row in results if row[3] and row[4] is not None and 30 < row[4] < 1530]
        assert len(during) >= 10, (len(during), len(results))
        assert {row[0] for row in during} >= {"/", "/topics/"}
        slowest = max(row[2] for row in during)
        assert slowest < 5, f"a page took {slowest:.1f} s during the import"
        print(f"{len(results)} requests, {len(during)} while the import was half done, slowest {slowest:.2f} s")
