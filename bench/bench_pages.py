"""Page benchmark: gunicorn (2 sync workers) under wrk, against a trivial view's ceiling.

    python bench/bench_pages.py [--stories 100000] [--small 10000] [--seconds 10] [--runs 3] [--cpu-only]
    python bench/bench_pages.py --search-only [--stories 100000]

Builds (once, cached under $BENCH_DIR) databases of published stories with 10
coverage items each, through the importer. Then for page caching off and on:
starts gunicorn with 2 sync workers on 127.0.0.1, and drives each page with wrk
(16 connections for throughput, 2 for latency), bounded in time. /bench/ok, a
view returning "ok" in the same server, gives the ceiling: every figure is also
reported as a ratio to it. CPU milliseconds per request are measured in process
with Django's test client, on the large and the small database in turn (the
machine's speed drifts over minutes). Medians of --runs. Results merge into
bench/results/latest.json; --cpu-only remeasures the CPU figures alone.
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
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from bench.common import BENCH_DIR, free_port, imported_database  # noqa: E402

SECRET = "bench-only-" + "k" * 60


def build_database(stories):
    """A SQLite database of ``stories`` published stories with 10 coverage items each, by the importer."""
    db = BENCH_DIR / f"pages-{stories}.sqlite3"
    env = server_env(db, cache_seconds=0)
    return imported_database(db, BENCH_DIR / f"pages-corpus-{stories}", stories, env, seed=2, related=(10, 10))


def server_env(db_path, cache_seconds):
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "DJANGO_SETTINGS_MODULE": "newsreader.settings",
        "DJANGO_ROOT_URLCONF": "bench.urls",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_SECURE_SSL": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "PAGE_CACHE_SECONDS": str(cache_seconds),
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
    "search": "/search/?q=facial+recognition",
    **json.loads(SEARCH_URLS_JSON),
    "page_500": "/?after=" + cursor,
    "ceiling": "/bench/ok",
}))
"""

# Search in every script (bench/make_corpus.py gives 1 lead in 20 a Japanese or Chinese headline):
# a common and a rare substring of 3+ characters (the trigram index), of 2 (the scan), and a mixed query.
SEARCH_QUERIES = {
    "search_cjk_common": "新型コロナ",
    "search_cjk_rare": "佐々木",
    "search_cjk_2_common": "東京",
    "search_cjk_2_rare": "朗希",
    "search_mixed": "facial 東京",
}
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


def search_only(args):
    """--search-only: the search URLs' cost on the large database, merged into latest.json as "search"."""
    large = build_database(args.stories)
    urls = {"search": "/search/?q=facial+recognition", **SEARCH_URLS}
    results = django_script(server_env(large, cache_seconds=0), SEARCH_SCRIPT, json.dumps(urls))
    print(json.dumps(results, indent=1, ensure_ascii=False), flush=True)
    out = HERE / "results" / "latest.json"
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged["search"] = {"stories": args.stories, "queries": {**SEARCH_QUERIES}, "results": results}
    merged["search_measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(merged, indent=1, ensure_ascii=False))
    print(f"wrote {out}")


# Runs inside Django: CPU ms per request for each URL through the test client.
CPU_SCRIPT = """
import json, sys, time
from django.test import Client
urls = json.loads(sys.argv[1])
client = Client()
out = {}
for name, url in urls.items():
    paths = url if isinstance(url, list) else [url]
    for path in paths[:20]:
        assert client.get(path).status_code == 200, path
    samples = []
    for rep in range(5):
        started = time.process_time()
        for i in range(40):
            client.get(paths[i % len(paths)])
        samples.append((time.process_time() - started) * 1000 / 40)
    out[name] = sorted(samples)[2]
print(json.dumps(out))
"""


def django_script(env, script, *args):
    code = f"import django; django.setup()\n{script}"
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=PROJECT, env=env, check=True, capture_output=True, text=True
    )
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


def run_load(env, urls, seconds, runs):
    port = free_port()
    server = start_gunicorn(env, port)
    try:
        for url in urls.values():  # warm both workers
            for path in url if isinstance(url, list) else [url]:
                subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}{path}"], check=False)
        figures = {}
        for name, url in urls.items():
            samples = [{**wrk(port, url, 16, seconds), **wrk(port, url, 2, seconds, latency=True)} for _ in range(runs)]
            figures[name] = {
                key: round(statistics.median(sample[key] for sample in samples), 2)
                for key in samples[0]
                if key != "non_2xx"
            }
            figures[name]["non_2xx"] = sum(sample["non_2xx"] for sample in samples)
        ceiling = figures["ceiling"]["req_per_s"]
        for figure in figures.values():
            figure["ratio_to_ceiling"] = round(figure["req_per_s"] / ceiling, 3)
        return figures
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--cpu-only", action="store_true", help="measure CPU ms per request only; keep the last load figures"
    )
    parser.add_argument("--search-only", action="store_true", help="measure the search pages only")
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if args.search_only:
        search_only(args)
        return

    large = build_database(args.stories)
    small = build_database(args.small)
    env = server_env(large, cache_seconds=0)
    urls = django_script(env, URLS_SCRIPT)
    small_env = server_env(small, cache_seconds=0)
    results = {"stories": args.stories, "seconds_per_run": args.seconds, "runs": args.runs}
    # The large and the small database in turn, --runs rounds, medians: the machine's speed drifts
    # over minutes, and the story page's large/small ratio compares figures taken side by side.
    small_urls = {"story": django_script(small_env, URLS_SCRIPT)["story"]}
    rounds = {"large": [], "small": []}
    for _ in range(args.runs):
        rounds["large"].append(django_script(env, CPU_SCRIPT, json.dumps(urls)))
        rounds["small"].append(django_script(small_env, CPU_SCRIPT, json.dumps(small_urls)))
    results["cpu_ms_per_request"] = {
        size: {name: round(statistics.median(sample[name] for sample in samples), 2) for name in samples[0]}
        for size, samples in rounds.items()
    }
    cpu = results["cpu_ms_per_request"]
    results["page_500_vs_first"] = round(cpu["large"]["page_500"] / cpu["large"]["home"], 2)
    results["story_large_vs_small"] = round(cpu["large"]["story"] / cpu["small"]["story"], 2)
    print(json.dumps(results, indent=1), flush=True)
    out = HERE / "results" / "latest.json"
    merged = json.loads(out.read_text()) if out.exists() else {}
    if args.cpu_only and "pages" in merged:
        results = {
            **merged["pages"],
            "cpu_ms_per_request": cpu,
            **{k: results[k] for k in ("page_500_vs_first", "story_large_vs_small")},
        }
    else:
        results["uncached"] = run_load(env, urls, args.seconds, args.runs)
        print(json.dumps(results["uncached"], indent=1), flush=True)
        results["cached"] = run_load(server_env(large, cache_seconds=600), urls, args.seconds, args.runs)
        print(json.dumps(results["cached"], indent=1), flush=True)
        merged["pages_measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    merged["pages_cpu_measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    out.parent.mkdir(exist_ok=True)
    merged["pages"] = results
    out.write_text(json.dumps(merged, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
