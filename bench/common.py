"""What the benchmark scripts share: where they keep their files, a free port, an imported database."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.make_corpus import write_corpus

PROJECT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/newsreader-bench"))
# Where the scripts merge their results (bench/report.py reads it): BENCH_RESULTS moves it, so
# a trial run does not overwrite the figures of the last full one.
RESULTS = Path(os.environ.get("BENCH_RESULTS") or PROJECT / "bench" / "results" / "latest.json")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, timeout=None):
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=env, check=True, timeout=timeout)


def postgres_url():
    """DATABASE_URL when it names a PostgreSQL database, else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def postgres_sibling(url, name):
    """The URL of database ``name`` on the server (and with the credentials) of ``url``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def generated_corpus(corpus, stories, *, seed, related, log=print):
    """The folder ``corpus`` of ``stories`` published documents, generated once (a ``.complete`` marker)."""
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        log(f"generating {stories:,} documents in {corpus} ...")
        write_corpus(corpus, stories, seed=seed, related=related, all_published=True)
        (corpus / ".complete").write_text("ok")
    return corpus


def import_corpus(env, corpus, stories, log=print):
    manage(env, "migrate", "-v", "0")
    log(f"importing {stories:,} documents ...")
    started = time.monotonic()
    manage(env, "import_stories", str(corpus), "--jobs", "2", "-v", "0", timeout=3600)
    log(f"imported in {time.monotonic() - started:.0f} s")


def imported_database(db, corpus, stories, env, *, seed, related, log=print):
    """The SQLite database ``db`` of ``stories`` published stories, generated into ``corpus`` and
    imported with ``--jobs 2``.

    Built once (a ``.complete`` marker beside it); when reused, it is migrated to the current
    schema, so a benchmark never runs new code on an old schema.
    """
    marker = db.with_suffix(".complete")
    if marker.exists():
        manage(env, "migrate", "-v", "0")
        return db
    generated_corpus(corpus, stories, seed=seed, related=related, log=log)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    import_corpus(env, corpus, stories, log=log)
    marker.write_text("ok")
    return db


def imported_postgres_database(server, url, corpus, stories, env, *, seed, related, log=print):
    """The PostgreSQL database ``url`` names, of ``stories`` published stories imported as
    ``imported_database`` does (the same corpus folder, so the same stories as the SQLite one).

    ``server`` is a database URL on the same server to create it from (DATABASE_URL's). Built
    once: the database's comment, set once the import finished, is the marker (it lives and dies
    with the database, on whichever server). When reused, migrated to the current schema.
    ``env`` must name ``url`` as its DATABASE_URL.
    """
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    done = f"newsreader bench: {stories} stories imported from {corpus.name}"
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row and row[0] == done:
            manage(env, "migrate", "-v", "0")
            return url
        generated_corpus(corpus, stories, seed=seed, related=related, log=log)
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    import_corpus(env, corpus, stories, log=log)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{done}'")
    return url


# Latin words (bench/make_corpus.py's vocabulary): its 48 words are each in every generated story
# (11 articles of 60 to 75 words each), so "privacy" matches them all; no word of it is rare, so the
# rare word is one the generator never writes (the index lookup and a page of no results).
# Search in every script (bench/make_corpus.py gives 1 lead in 20 a Japanese or Chinese headline):
# a common and a rare substring of 3+ characters (the trigram index), of 2 (the grams index), and a
# mixed query. bench_pages.py sends them, report.py names them.
SEARCH_QUERIES = {
    "search": "facial recognition",
    "search_common": "privacy",
    "search_rare": "zeppelin",
    "search_cjk_common": "新型コロナ",
    "search_cjk_rare": "佐々木",
    "search_cjk_2_common": "東京",
    "search_cjk_2_rare": "朗希",
    "search_mixed": "facial 東京",
}
