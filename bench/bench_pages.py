"""Page benchmark: gunicorn (2 sync workers) under wrk, against a trivial view's ceiling.

    python bench/bench_pages.py [--stories 100000] [--small 10000] [--seconds 10] [--runs 3]
                                [--database sqlite|postgresql|both] [--pages story,home,...]
                                [--cache off|on|both] [--cpu-only]
    python bench/bench_pages.py --search-only [--stories 100000] [--database ...]

Builds (once, cached under $BENCH_DIR) databases of published stories with 10
coverage items each, through the importer: SQLite files, and when DATABASE_URL
names a PostgreSQL database, databases of the same corpus on that server too
(``--database`` picks; both by default then). For each database, and for page
caching off and on: starts gunicorn with 2 sync workers on 127.0.0.1, and drives
each page with wrk (16 connections for throughput, 2 for latency), bounded in
time, every page once per round, --runs rounds. /bench/ok, a view returning "ok"
in the same server, gives the ceiling: each round's figure is also divided by
that round's ceiling, and the median of those ratios is reported. CPU
milliseconds per request are measured in process with Django's test client, on
the large and the small database in turn (the machine's speed drifts over
minutes). Medians of --runs. Results merge into bench/results/latest.json (or
$BENCH_RESULTS) under "pages", one entry per database; --cpu-only remeasures the
CPU figures alone, --pages measures some pages only (the ceiling always).
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from bench.common import (  # noqa: E402
    BENCH_DIR,
    RESULTS,
    SEARCH_QUERIES,
    free_port,
    imported_database,
    imported_postgres_database,
    postgres_sibling,
    postgres_url,
)

SECRET = "bench-only-" + "k" * 60
DATABASES = ("sqlite", "postgresql")
CORPUS_SEED, CORPUS_RELATED = 2, (10, 10)


def build_database(stories, database="sqlite"):
    """A database of ``stories`` published stories with 10 coverage items each, by the importer.

    SQLite: a file under $BENCH_DIR. PostgreSQL: a database on DATABASE_URL's server, named after
    DATABASE_URL's own with ``_bench_pages_<stories>``; both from the same corpus folder. Returns
    what ``server_env`` takes: the file's path or the database's URL.
    """
    corpus = BENCH_DIR / f"pages-corpus-{stories}"
    if database == "sqlite":
        db = BENCH_DIR / f"pages-{stories}.sqlite3"
        env = server_env(db, cache_seconds=0)
        return imported_database(db, corpus, stories, env, seed=CORPUS_SEED, related=CORPUS_RELATED)
    server = postgres_url()
    if not server:
        raise SystemExit("--database postgresql needs DATABASE_URL to name a PostgreSQL database")
    url = postgres_sibling(server, f"{urlsplit(server).path.lstrip('/')}_bench_pages_{stories}")
    env = server_env(url, cache_seconds=0)
    return imported_postgres_database(server, url, corpus, stories, env, seed=CORPUS_SEED, related=CORPUS_RELATED)


def server_env(db, cache_seconds):
    """The environment of a server (or a Django script) on ``db``: a SQLite file's path or a database URL."""
    if isinstance(db, str) and "://" in db:
        url = db
        # PostgreSQL has no file to keep the content generation beside: one per database, here.
        generation = {"CONTENT_GENERATION_FILE": str(BENCH_DIR / f"{urlsplit(db).path.lstrip('/')}-generation")}
    else:
        url, generation = f"sqlite:///{db}", {}
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "newsreader.settings",
        "DJANGO_ROOT_URLCONF": "bench.urls",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_SECURE_SSL": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "PAGE_CACHE_SECONDS": str(cache_seconds),
        **generation,
    }


# Runs inside Django: prints the benchmark's URLs as JSON.
URLS_SCRIPT = """
import json, random
from stories.models import Provider, Story, Topic
from stories.pagination import NEWEST
from stories.views import PER_PAGE
rng = random.Random(5)
ids = list(Story.objects.published().order_by().values_list("id", flat=True))
stories = [s.get_absolute_url() for s in Story.objects.filter(pk__in=rng.sample(ids, min(500, len(ids))))]
topic = Topic.objects.order_by("-story_count").first()
provider = Provider.objects.order_by("-led_count").first()
at = min(PER_PAGE * 499, len(ids) - PER_PAGE) - 1  # a small database still has a page after it
row = Story.objects.published().newest_first().values("published_at", "id")[at]
cursor = ".".join(key.encode(row[key.field]) for key in NEWEST)
print(json.dumps({
    "home": "/",
    "story": stories,
    "topic": topic.get_absolute_url(),
    "provider": provider.get_absolute_url(),
    **json.loads(SEARCH_URLS_JSON),
    "page_500": "/?after=" + cursor,
    "ceiling": "/bench/ok",
}))
"""

SEARCH_URLS = {name: "/search/?q=" + quote(query) for name, query in SEARCH_QUERIES.items()}
URLS_SCRIPT = URLS_SCRIPT.replace("SEARCH_URLS_JSON", repr(json.dumps(SEARCH_URLS)))

# Runs inside Django: for each search URL, the CPU and wall ms of a request (every cache cold but
# the cards'), and what the page says of its count.
SEARCH_SCRIPT = """
import json, re, sys, time
from django.test import Client
urls = json.loads(sys.argv[1])
client = Client()
out = {}
for name, url in urls.items():
    body = client.get(url).content.decode()
    count = re.search(r'class="match-count"[^>]*>([^<]*)<', body)
    cpu, wall = [], []
    for rep in range(7):
        started, clock = time.process_time(), time.perf_counter()
        assert client.get(url).status_code == 200, url
        cpu.append((time.process_time() - started) * 1000)
        wall.append((time.perf_counter() - clock) * 1000)
    out[name] = {"cpu_ms": round(sorted(cpu)[3], 1), "wall_ms": round(sorted(wall)[3], 1),
                 "count": count.group(1).strip() if count else "none"}
print(json.dumps(out))
"""


def search_only(args, database):
    """--search-only: the search URLs' cost on the large database, merged as "search" (one entry per database)."""
    large = build_database(args.stories, database)
    results = django_script(server_env(large, cache_seconds=0), SEARCH_SCRIPT, json.dumps(SEARCH_URLS))
    print(json.dumps(results, indent=1, ensure_ascii=False), flush=True)
    merged = read_results()
    if "results" in merged.get("search", {}):  # the one-database layout before issue 17: SQLite's
        merged["search"] = {"sqlite": merged["search"]}
    merged.setdefault("search", {})[database] = {
        "stories": args.stories,
        "queries": {**SEARCH_QUERIES},
        "results": results,
        "measured_at": now(),
    }
    write_results(merged)


# Runs inside Django: CPU ms per request for each URL through the test client, and what a search
# page says of its count of matches.
CPU_SCRIPT = """
import json, re, sys, time
from django.test import Client
urls = json.loads(sys.argv[1])
client = Client()
cpu, matches = {}, {}
for name, url in urls.items():
    paths = url if isinstance(url, list) else [url]
    for path in paths[:20]:
        response = client.get(path)
        assert response.status_code == 200, path
    if name.startswith("search"):
        count = re.search(r'class="match-count"[^>]*>([^<]*)<', response.content.decode())
        text = count.group(1) if count else "0"  # no count shown: nothing matched
        number = re.search(r"[0-9][0-9,]*", text)
        matches[name] = ("more than " if "more than" in text.lower() else "") + (number.group(0) if number else text)
    samples = []
    for rep in range(5):
        started = time.process_time()
        for i in range(40):
            client.get(paths[i % len(paths)])
        samples.append((time.process_time() - started) * 1000 / 40)
    cpu[name] = sorted(samples)[2]
print(json.dumps({"cpu": cpu, "matches": matches}))
"""


def django_script(env, script, *args):
    code = f"import django; django.setup()\n{script}"
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT, env=env, capture_output=True, text=True)
    if result.returncode:  # its traceback, not the script and its arguments
        sys.exit(f"a Django script failed on {env['DATABASE_URL']}:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_gunicorn(env, port):
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "newsreader.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=PROJECT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def write_lua(paths):
    script = BENCH_DIR / "paths.lua"
    quoted = ",".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\n"
        "math.randomseed(7)\n"
        "request = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"
    )
    return script


def wrk(port, path, connections, seconds, latency=False):
    args = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
    if latency:
        args.append("--latency")
    if isinstance(path, list):
        args += ["-s", str(write_lua(path)), f"http://127.0.0.1:{port}/"]
    else:
        args.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=seconds + 30).stdout
    result = {"req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    if latency:
        for pct in ("50", "99"):
            value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()
            result[f"p{pct}_ms"] = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return result


DRAIN_SECONDS = 1


def run_load(env, urls, seconds, runs):
    """wrk figures of every URL of ``urls`` (the ceiling among them) on one server: --runs rounds of every
    page in turn, medians; each round's rate is divided by the same round's ceiling."""
    port = free_port()
    server = start_gunicorn(env, port)
    try:
        for url in urls.values():  # warm both workers
            for path in url if isinstance(url, list) else [url]:
                subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}{path}"], check=False)
        samples = {name: [] for name in urls}
        for _ in range(runs):
            for name, url in urls.items():
                throughput = wrk(port, url, 16, seconds)
                # wrk stops with up to 16 requests still queued at the workers: measured at once, the
                # latency run's first requests waited behind them (a p99 of 76 ms instead of 22 for a
                # search here). A second lets the workers finish them.
                time.sleep(DRAIN_SECONDS)
                samples[name].append({**throughput, **wrk(port, url, 2, seconds, latency=True)})
        ceilings = [sample["req_per_s"] for sample in samples["ceiling"]]
        figures = {}
        for name, rounds in samples.items():
            figure = {key: round(statistics.median(s[key] for s in rounds), 2) for key in rounds[0] if key != "non_2xx"}
            figure["non_2xx"] = sum(s["non_2xx"] for s in rounds)
            ratios = [s["req_per_s"] / ceiling for s, ceiling in zip(rounds, ceilings, strict=True)]
            figure["ratio_to_ceiling"] = round(statistics.median(ratios), 3)
            figure["runs_req_per_s"] = [round(s["req_per_s"], 1) for s in rounds]
            figure["runs_p99_ms"] = [round(s["p99_ms"], 2) for s in rounds]
            figures[name] = figure
        return figures
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def now():
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def read_results():
    """The results file's contents; "pages" as one entry per database (an older file's single entry is SQLite's)."""
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "stories" in merged.get("pages", {}):
        merged["pages"] = {"sqlite": merged["pages"]}
    return merged


def write_results(merged):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(merged, indent=1, ensure_ascii=False))
    print(f"wrote {RESULTS}", flush=True)


def measure(database, args, pages):
    """The figures of one database: CPU per request in process, then (unless --cpu-only) wrk with the page
    cache off and on (--cache), for the pages named (all when ``pages`` is None; the ceiling always)."""
    large = build_database(args.stories, database)
    env = server_env(large, cache_seconds=0)
    urls = django_script(env, URLS_SCRIPT)
    if pages and pages - set(urls):
        raise SystemExit(f"unknown pages {', '.join(sorted(pages - set(urls)))}; the pages: {', '.join(urls)}")
    urls = {name: url for name, url in urls.items() if pages is None or name in pages or name == "ceiling"}
    results = {"stories": args.stories, "small": args.small, "seconds_per_run": args.seconds, "runs": args.runs}
    # The large and the small database in turn, --runs rounds, medians: the machine's speed drifts
    # over minutes, and the story page's large/small ratio compares figures taken side by side.
    small_env = None
    if "story" in urls:
        small_env = server_env(build_database(args.small, database), cache_seconds=0)
        small_urls = {"story": django_script(small_env, URLS_SCRIPT)["story"]}
    rounds = {"large": [], "small": []}
    for _ in range(args.runs):
        measured = django_script(env, CPU_SCRIPT, json.dumps(urls))
        rounds["large"].append(measured["cpu"])
        results["matches"] = measured["matches"]
        if small_env:
            rounds["small"].append(django_script(small_env, CPU_SCRIPT, json.dumps(small_urls))["cpu"])
    cpu = results["cpu_ms_per_request"] = {
        size: {name: round(statistics.median(sample[name] for sample in samples), 2) for name in samples[0]}
        for size, samples in rounds.items()
        if samples
    }
    if "page_500" in cpu["large"] and "home" in cpu["large"]:
        results["page_500_vs_first"] = round(cpu["large"]["page_500"] / cpu["large"]["home"], 2)
    if "small" in cpu:
        results["story_large_vs_small"] = round(cpu["large"]["story"] / cpu["small"]["story"], 2)
    results["cpu_measured_at"] = now()
    print(json.dumps({database: results}, indent=1, ensure_ascii=False), flush=True)
    if not args.cpu_only:
        for key, cache_seconds in (("uncached", 0), ("cached", 600)):
            if args.cache in (key, "both"):
                results[key] = run_load(server_env(large, cache_seconds), urls, args.seconds, args.runs)
                print(json.dumps({database: {key: results[key]}}, indent=1), flush=True)
        results["measured_at"] = now()
    return results


def merge(earlier, results):
    """``results`` over ``earlier`` (one database's figures), page by page: pages not measured now keep theirs."""
    merged = {**earlier, **{k: v for k, v in results.items() if not isinstance(v, dict)}}
    for key, value in results.items():
        if isinstance(value, dict):
            inner = dict(earlier.get(key) or {})
            for name, figures in value.items():
                inner[name] = {**inner.get(name, {}), **figures} if isinstance(figures, dict) else figures
            merged[key] = inner
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database",
        choices=(*DATABASES, "both"),
        help="default: both when DATABASE_URL names a PostgreSQL database, else sqlite",
    )
    parser.add_argument("--pages", help="comma-separated page names to measure (default: all; the ceiling always)")
    parser.add_argument("--cache", choices=("off", "on", "both"), default="both", help="page cache off, on or both")
    parser.add_argument(
        "--cpu-only", action="store_true", help="measure CPU ms per request only; keep the last load figures"
    )
    parser.add_argument("--search-only", action="store_true", help="measure the search pages only")
    args = parser.parse_args()
    args.cache = {"off": "uncached", "on": "cached"}.get(args.cache, args.cache)
    database = args.database or ("both" if postgres_url() else "sqlite")
    databases = DATABASES if database == "both" else (database,)
    pages = set(args.pages.split(",")) if args.pages else None
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for name in databases:
        if args.search_only:
            search_only(args, name)
            continue
        results = measure(name, args, pages)
        merged = read_results()  # read again: another database's figures may have been written since
        merged.setdefault("pages", {})[name] = merge(merged.get("pages", {}).get(name, {}), results)
        write_results(merged)


if __name__ == "__main__":
    main()
