"""Import benchmark: documents per second and peak memory, against the parse-only limit.

    python bench/bench_import.py [--sizes 1000,10000,100000] [--runs 3] [--jobs 2]

For each size it generates (once, cached under $BENCH_DIR, default
/tmp/newsreader-bench) a deterministic corpus, measures the rate at which
PyYAML's CSafeLoader alone reads and parses those files (the limit), then
imports them into a fresh SQLite database (and PostgreSQL when DATABASE_URL
names one) in a separate process, then re-imports them, with --jobs 1 and N.
Every rate is reported absolute and as a ratio to the limit. Medians of
``--runs`` runs. Results are merged into bench/results/latest.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from bench.common import BENCH_DIR  # noqa: E402
from bench.make_corpus import write_corpus  # noqa: E402
from stories.languages import detect_language  # noqa: E402

# Runs in a child process: one import (the recount included, as import_paths does it),
# then prints seconds and peak RSS (KB) as JSON.
CHILD = """
import json, resource, sys, time, django
django.setup()
from stories.importer import import_paths
started = time.perf_counter()
report = import_paths([sys.argv[1]], jobs=int(sys.argv[2]), on_error=lambda line: None)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "created": report.created, "updated": report.updated,
                  "unchanged": report.unchanged, "failed": report.failed,
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def corpus(size):
    folder = BENCH_DIR / f"corpus-{size}"
    marker = folder / ".complete"
    if not marker.exists():
        print(f"generating {size:,} documents in {folder} ...", flush=True)
        write_corpus(folder, size, seed=1)
        marker.write_text("ok")
    return folder


def files_of(folder):
    return sorted(p for p in folder.rglob("*.md"))


def parse_only_rate(paths):
    """Documents per second for read + front-matter split + CSafeLoader, nothing else."""
    started = time.perf_counter()
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        end = text.find("\n---\n", 4)
        yaml.load(text[4:end], Loader=yaml.CSafeLoader)
    return len(paths) / (time.perf_counter() - started)


def language_cost(paths, sample=2000):
    """Milliseconds per document that language detection adds to an import: every article of each document.

    Measured on the parsed articles of up to ``sample`` documents, after one warm-up call (the model loads once).
    """
    documents = []
    for path in paths[:sample]:
        text = path.read_bytes().decode("utf-8")
        data = yaml.load(text[4 : text.find("\n---\n", 4)], Loader=yaml.CSafeLoader)
        items = [data, *(item for item in data.get("related") or [] if isinstance(item, dict))]
        documents.append([(str(item.get("title") or ""), str(item.get("excerpt") or "")) for item in items])
    detect_language("warm up")
    started = time.perf_counter()
    for articles in documents:
        for title, excerpt in articles:
            detect_language(title, excerpt)
    seconds = time.perf_counter() - started
    articles = sum(map(len, documents))
    return {
        "ms_per_document": round(seconds / len(documents) * 1000, 3),
        "articles_per_document": round(articles / len(documents), 1),
    }


def fresh_database(label):
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        base = url.rsplit("/", 1)[0]
        name = f"bench_{label}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        db_url = f"{base}/{name}"
    else:
        path = BENCH_DIR / f"{label}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{path}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "newsreader.settings",
        # as in production: no debug query log
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-" + "k" * 60,
        "DJANGO_SECURE_SSL": "false",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=PROJECT, env=env, check=True)
    return env


def run_import(env, folder, jobs):
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(jobs)],
        cwd=PROJECT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_size(size, runs, jobs_list):
    folder = corpus(size)
    paths = files_of(folder)
    limit = statistics.median(parse_only_rate(paths) for _ in range(runs))
    result = {"documents": len(paths), "parse_only_docs_per_s": round(limit, 1), "runs": runs}
    costs = [language_cost(paths) for _ in range(runs)]
    result["language_detection"] = {
        **costs[0],
        "ms_per_document": statistics.median(c["ms_per_document"] for c in costs),
    }
    for jobs in jobs_list:
        first, again = [], []
        for run in range(runs):
            env = fresh_database(f"import_{size}_{jobs}_{run}")
            first.append(run_import(env, folder, jobs))
            again.append(run_import(env, folder, jobs))
        for name, samples in (("import", first), ("reimport", again)):
            seconds = statistics.median(s["seconds"] for s in samples)
            rate = len(paths) / seconds
            result[f"{name}_jobs{jobs}"] = {
                "docs_per_s": round(rate, 1),
                "runs_docs_per_s": sorted(round(len(paths) / s["seconds"], 1) for s in samples),
                "ratio_to_parse_only": round(rate / limit, 3),
                "peak_rss_mb": round(max(s["peak_rss_kb"] for s in samples) / 1024, 1),
                "counts": {k: samples[0][k] for k in ("created", "updated", "unchanged", "failed")},
            }
        print(json.dumps({size: result}, indent=1), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2, help="also measure --jobs N (1 is always measured)")
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    jobs_list = [1] if args.jobs <= 1 else [1, args.jobs]
    database = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    results = {str(size): bench_size(size, args.runs, jobs_list) for size in map(int, args.sizes.split(","))}
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged.setdefault("import", {}).setdefault(database, {}).update(results)  # other sizes' results stay
    merged["import_measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out.write_text(json.dumps(merged, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
