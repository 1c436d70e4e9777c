"""What the benchmark scripts share: where they keep their files, a free port, an imported database."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.make_corpus import write_corpus

PROJECT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/newsreader-bench"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, timeout=None):
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=env, check=True, timeout=timeout)


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
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        log(f"generating {stories:,} documents in {corpus} ...")
        write_corpus(corpus, stories, seed=seed, related=related, all_published=True)
        (corpus / ".complete").write_text("ok")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    manage(env, "migrate", "-v", "0")
    log(f"importing {stories:,} documents ...")
    started = time.monotonic()
    manage(env, "import_stories", str(corpus), "--jobs", "2", "-v", "0", timeout=3600)
    log(f"imported in {time.monotonic() - started:.0f} s")
    marker.write_text("ok")
    return db
