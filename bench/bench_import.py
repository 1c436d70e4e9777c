"""Import benchmark: documents per second and peak memory, against the parse-only limit.

    python bench/bench_import.py [--sizes 1000,10000,100000] [--runs 3] [--jobs default,1,2]
                                 [--database sqlite|postgresql|both]

For each size it generates (once, cached under $BENCH_DIR, default
/tmp/newsreader-bench) a deterministic corpus, measures the rate at which
PyYAML's CSafeLoader alone reads and parses those files (the limit), then
imports them into a fresh SQLite database (and PostgreSQL when DATABASE_URL
names one; ``--database`` picks) in a separate process, then re-imports them: as the plain command
does by default (``default``: workers per CPU, ``import_paths(jobs=None)``), and
with each ``--jobs`` count given. The limit is measured again before each import
run (on up to PARSE_SAMPLE files spread over the corpus: the rate is per
document), so each run's ratio compares figures taken under the same load.
Every rate is reported absolute and as a ratio to the limit. Medians of
``--runs`` runs. Results are merged into bench/results/latest.json (or
$BENCH_RESULTS), under "import" and the database's name.
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

from bench.common import BENCH_DIR, RESULTS, postgres_sibling, postgres_url  # noqa: E402
from bench.make_corpus import write_corpus  # noqa: E402
from stories.languages import detect_language  # noqa: E402

# Runs in a child process: one import (the recount included, as import_paths does it),
# then prints seconds and peak RSS (KB) as JSON.
CHILD = """
import json, resource, sys, time, django
django.setup()
from stories.importer import import_paths
started = time.perf_counter()
jobs = None if sys.argv[2] == "default" else int(sys.argv[2])
report = import_paths([sys.argv[1]], jobs=jobs, on_error=lambda line: None)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "created": report.created, "updated": report.updated,
                  "unchanged": report.unchanged, "failed": report.failed, "workers": report.workers,
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


PARSE_SAMPLE = 20_000


def sample(paths, size=PARSE_SAMPLE):
    step = max(1, len(paths) // size)
    return paths[::step][:size]


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


def drop_database(label, database):
    """Remove the database ``fresh_database(label, database)`` made, if any: 100,000 documents take gigabytes."""
    if database == "postgresql":
        import psycopg

        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "bench_{label}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm", "-generation"):
            Path(f"{BENCH_DIR / label}.sqlite3{suffix}").unlink(missing_ok=True)


def fresh_database(label, database):
    drop_database(label, database)
    generation = {}
    if database == "postgresql":
        import psycopg

        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "bench_{label}"')
        db_url = postgres_sibling(postgres_url(), f"bench_{label}")
        generation = {"CONTENT_GENERATION_FILE": str(BENCH_DIR / f"bench_{label}-generation")}
    else:
        db_url = f"sqlite:///{BENCH_DIR / label}.sqlite3"
    env = {
        **os.environ,
        **generation,
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


def bench_size(size, runs, jobs_list, database):
    folder = corpus(size)
    paths = files_of(folder)
    limits = [parse_only_rate(sample(paths))]
    result = {"documents": len(paths), "runs": runs}
    costs = [language_cost(paths) for _ in range(runs)]
    result["language_detection"] = {
        **costs[0],
        "ms_per_document": statistics.median(c["ms_per_document"] for c in costs),
    }
    for jobs in jobs_list:
        first, again, run_limits = [], [], []
        for run in range(runs):
            env = fresh_database(f"import_{size}_{jobs}_{run}", database)
            run_limits.append(parse_only_rate(sample(paths)))  # the limit under this run's load
            first.append(run_import(env, folder, jobs))
            again.append(run_import(env, folder, jobs))
            drop_database(f"import_{size}_{jobs}_{run}", database)
        limits += run_limits
        for name, samples in (("import", first), ("reimport", again)):
            rates = [len(paths) / s["seconds"] for s in samples]
            ratios = [rate / lim for rate, lim in zip(rates, run_limits, strict=True)]
            result[f"{name}_{label(jobs)}"] = {
                "docs_per_s": round(statistics.median(rates), 1),
                "runs_docs_per_s": sorted(round(rate, 1) for rate in rates),
                "ratio_to_parse_only": round(statistics.median(ratios), 3),
                "runs_ratio": [round(ratio, 3) for ratio in ratios],
                "runs_parse_only": [round(lim, 1) for lim in run_limits],
                "workers": samples[0]["workers"],
                "peak_rss_mb": round(max(s["peak_rss_kb"] for s in samples) / 1024, 1),
                "counts": {k: samples[0][k] for k in ("created", "updated", "unchanged", "failed")},
            }
        result["parse_only_docs_per_s"] = round(statistics.median(limits), 1)
        print(json.dumps({database: {size: result}}, indent=1), flush=True)
    return result


def label(jobs):
    """jobs1, jobs2, ... or "default" (the plain command: no --jobs)."""
    return "default" if jobs == "default" else f"jobs{jobs}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--jobs", default="default,1,2", help="comma-separated: 'default' (no --jobs) and --jobs counts to measure"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        help="default: both when DATABASE_URL names a PostgreSQL database, else sqlite",
    )
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    jobs_list = [jobs if jobs == "default" else int(jobs) for jobs in args.jobs.split(",")]
    database = args.database or ("both" if postgres_url() else "sqlite")
    if database != "sqlite" and not postgres_url():
        raise SystemExit("--database postgresql needs DATABASE_URL to name a PostgreSQL database")
    for name in ("sqlite", "postgresql") if database == "both" else (database,):
        results = {str(size): bench_size(size, args.runs, jobs_list, name) for size in map(int, args.sizes.split(","))}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        merged.setdefault("import", {}).setdefault(name, {}).update(results)  # other sizes' results stay
        merged["import_measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        RESULTS.write_text(json.dumps(merged, indent=1))
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
