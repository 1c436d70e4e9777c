"""Load test: gunicorn on 127.0.0.1 under wrk, a realistic database, every kind of page.

    python bench/load_test.py [--stories 5000] [--duration 60] [--connections 32] [--write-doc]

Not part of `make test`. Needs wrk (Debian: `apt-get install -y wrk`).

1. Builds once (cached under $BENCH_DIR, default /tmp/newsreader-bench) a SQLite database
   of --stories published stories through the importer (bench/make_corpus.py documents,
   0 to 15 coverage items each), and collects the static files next to it.
2. Starts gunicorn (--workers sync workers) with production settings: DEBUG off, a real
   secret key, the manifest static storage, the page cache on (PAGE_CACHE_SECONDS, default
   60; --page-cache 0 to switch it off). TLS settings are off: there is no proxy on loopback.
3. Checks every URL once (200, or 404 for the missing page), then runs wrk for --duration
   seconds at --connections connections. Its Lua script cycles through home, a story, a topic,
   an outlet, a search and a missing page, each drawn from a list (100 stories, every topic,
   50 outlets, 10 searches, 3 missing pages), and counts the responses by status.
4. Samples the workers' resident memory (VmRSS in /proc/<pid>/status) every --sample seconds.
5. Stops the server (its whole process group), prints a JSON summary, saves it as
   $BENCH_DIR/load_test-cache-on.json (or -off), and with --write-doc writes its part of
   the "Load test" section of docs/benchmarks.md (other sections are kept).

Exit status 1 if any response was a 5xx, any socket error happened, a worker was replaced,
or a worker's memory grew by more than --rss-growth-mb after the warm-up.

    python bench/load_test.py --crawl [100000] [--write-doc]

Crawl mode (issue 14: a scanner's ~100,000 distinct URLs grew each worker to 354 MB): wrk
sends --crawl requests, each a new random URL: lists, searches and search feeds with random
search words and filter values (real and made-up, empty fields, unknown parameters), day
archives, story pages, and hostile values (control characters, broken UTF-8) that are
answered 400 by design. Reports each worker's memory after --crawl-warmup seconds (default
120: its cache has filled by then) and at the end (flat: within 20% of it), and the errors:
5xx, socket errors, any 400 not naming a hostile character, any hostile URL not answered 400.
With --write-doc it writes the "Crawl of distinct URLs" section of docs/benchmarks.md.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from bench.common import BENCH_DIR, free_port, imported_database, manage  # noqa: E402

DOC = PROJECT / "docs" / "benchmarks.md"
START, END = "<!-- load-test:start -->", "<!-- load-test:end -->"

KINDS = ("home", "story", "topic", "provider", "search", "missing")

# Runs inside Django against the load database: the URLs, as JSON.
URLS_SCRIPT = """
import json, random
import django
django.setup()
from stories.models import Provider, Story, Topic
rng = random.Random(11)
ids = list(Story.objects.published().order_by().values_list("id", flat=True))
stories = [s.get_absolute_url() for s in Story.objects.filter(pk__in=rng.sample(ids, min(100, len(ids))))]
topics = [t.get_absolute_url() for t in Topic.objects.filter(story_count__gt=0)]
providers = [p.get_absolute_url() for p in Provider.objects.filter(led_count__gt=0).order_by("-led_count")[:50]]
words = ["facial recognition", "privacy", "robot", "cloud", "lawsuit", "chip", "startup funding", "police",
         "dataset bias", "hospital"]
print(json.dumps({
    "home": ["/", "/?sort=top"],
    "story": stories,
    "topic": topics,
    "provider": providers,
    "search": ["/search/?q=" + w.replace(" ", "+") for w in words],
    "missing": ["/no-such-page/", "/story/999999999-gone/", "/topics/no-such-topic/"],
    "stories_in_db": len(ids),
    "topic_slugs": [t.slug for t in Topic.objects.filter(story_count__gt=0)],
    "provider_slugs": list(
        Provider.objects.filter(led_count__gt=0).order_by("-led_count").values_list("slug", flat=True)[:100]
    ),
}))
"""

LUA = r"""
-- Cycles through the kinds of page in order; each kind through its own list.
local lists = %(lists)s
local kinds = {"home", "story", "topic", "provider", "search", "missing"}
local counter = 0
statuses = {}  -- globals: done() reads them from each thread with thread:get()
sent = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = math.random(0, 1000)
end

function request()
  counter = counter + 1
  local kind = kinds[(counter %% #kinds) + 1]
  local list = lists[kind]
  local path = list[(math.floor(counter / #kinds) %% #list) + 1]
  sent[kind] = (sent[kind] or 0) + 1
  return wrk.format("GET", path)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total_statuses, total_sent = {}, {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do total_statuses[key] = (total_statuses[key] or 0) + count end
    for key, count in pairs(thread:get("sent")) do total_sent[key] = (total_sent[key] or 0) + count end
  end
  local function object(t)
    local parts = {}
    for key, value in pairs(t) do table.insert(parts, string.format('"%%s": %%d', key, value)) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  io.write("WRK_JSON ")
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "bytes": %%d, "errors": {"connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d}, "latency_us": {"p50": %%d, "p90": %%d, "p99": %%d, "max": %%d, "mean": %%.1f}, ' ..
    '"statuses": %%s, "sent": %%s}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    object(total_statuses), object(total_sent)))
end
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def base_env(db_path, static_root, cache_seconds=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="newsreader.settings",
        DATABASE_URL=f"sqlite:///{db_path}",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SECURE_SSL="false",  # plain HTTP on loopback; production sits behind a TLS proxy
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_STATIC_ROOT=str(static_root),
        PAGE_CACHE_SECONDS=str(cache_seconds),
    )
    return env


def build_database(stories, workdir):
    """A SQLite database of ``stories`` published stories, made by the importer, and the static files."""
    db, static_root = workdir / f"load-{stories}.sqlite3", workdir / "static"
    env = base_env(db, static_root)
    imported_database(db, workdir / f"load-corpus-{stories}", stories, env, seed=4, related=(0, 15), log=log)
    manage(env, "collectstatic", "--no-input", "-v", "0")
    return db, static_root


def fetch_status(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def children(pid):
    """Direct child processes of ``pid`` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    def __init__(self, master, every):
        super().__init__(daemon=True)
        self.master, self.every = master, every
        self.samples = []  # (seconds since start, {pid: rss_kb})
        self.workers_seen = set()
        self.stop = threading.Event()
        self.started = time.monotonic()

    def sample(self):
        pids = children(self.master)
        self.workers_seen.update(pids)
        self.samples.append((round(time.monotonic() - self.started, 1), {pid: rss_kb(pid) for pid in pids}))

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.every)
        self.sample()


def memory_report(sampler, warmup_seconds):
    per_worker = {}
    for _elapsed, values in sampler.samples:
        for pid, kb in values.items():
            if kb is not None:
                per_worker.setdefault(pid, []).append(kb)
    after_warmup = [(t, v) for t, v in sampler.samples if t >= warmup_seconds] or sampler.samples
    report = {}
    for pid, series in per_worker.items():
        warm = [v[pid] for _, v in after_warmup if v.get(pid) is not None] or series
        report[str(pid)] = {
            "start_mb": round(series[0] / 1024, 1),
            "after_warmup_mb": round(warm[0] / 1024, 1),
            "end_mb": round(series[-1] / 1024, 1),
            "max_mb": round(max(series) / 1024, 1),
            "growth_after_warmup_mb": round((warm[-1] - warm[0]) / 1024, 1),
            "samples": len(series),
        }
    return report


def start_server(env, port, workers, log_path):
    log_file = open(log_path, "w")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "newsreader.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=PROJECT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped whole at the end
    )
    proc.log_file = log_file
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if fetch_status(f"http://127.0.0.1:{port}/robots.txt") == 200:
                return proc
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    stop_server(proc)
    raise RuntimeError(f"gunicorn did not start; see {log_path}")


def stop_server(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
    proc.log_file.close()


def run_wrk(port, urls, duration, connections, threads, workdir):
    lists = "{" + ", ".join(f"{kind} = {{{', '.join(json.dumps(p) for p in urls[kind])}}}" for kind in KINDS) + "}"
    script = workdir / "load_test.lua"
    script.write_text(LUA % {"lists": lists})
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s"]
    args += ["-s", str(script), f"http://127.0.0.1:{port}/"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK_JSON "))
    return json.loads(line.removeprefix("WRK_JSON ")), result.stdout


def machine_facts():
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
        "0",
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    wrk_banner = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    wrk_version = re.search(r"wrk (\S+)", wrk_banner)
    gunicorn = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    gunicorn = re.sub(r"gunicorn \(version (\S+)\)", r"gunicorn \1", gunicorn)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(int(memory) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
        "wrk": f"wrk {wrk_version.group(1) if wrk_version else '?'}",
        "gunicorn": gunicorn,
    }


def summarize(wrk_result, urls, memory, workers_seen, workers, duration, connections, cache_seconds, log_path):
    statuses = {int(k): v for k, v in wrk_result["statuses"].items()}
    requests = wrk_result["requests"]
    seconds = wrk_result["duration_us"] / 1e6
    server_errors = sum(v for k, v in statuses.items() if k >= 500)
    not_found = statuses.get(404, 0)
    other_4xx = sum(v for k, v in statuses.items() if 400 <= k < 500 and k != 404)
    errors = wrk_result["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    log_text = Path(log_path).read_text(errors="replace")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine_facts(),
        "setup": {
            "stories": urls["stories_in_db"],
            "gunicorn_workers": workers,
            "connections": connections,
            "duration_s": duration,
            "page_cache_seconds": cache_seconds,
            "urls_per_kind": {kind: len(urls[kind]) for kind in KINDS},
        },
        "requests": requests,
        "requests_per_s": round(requests / seconds, 1) if seconds else 0,
        "latency_ms": {k: round(v / 1000, 1) for k, v in wrk_result["latency_us"].items()},
        "statuses": dict(sorted(statuses.items())),
        "sent_per_kind": wrk_result["sent"],
        "not_found_404": not_found,
        "not_found_requests_sent": wrk_result["sent"].get("missing", 0),
        "other_4xx": other_4xx,
        "server_errors_5xx": server_errors,
        "socket_errors": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
        "socket_errors_total": socket_errors,
        "workers_seen": len(workers_seen),
        "worker_rss": memory,
        "server_log_error_lines": sum(
            1 for line in log_text.splitlines() if re.search(r"Traceback|\[ERROR\]|CRITICAL", line)
        ),
    }


def verdict(summary, rss_growth_mb, workers):
    problems = []
    if summary["server_errors_5xx"]:
        problems.append(f"{summary['server_errors_5xx']} responses were 5xx")
    if summary["socket_errors_total"]:
        problems.append(f"{summary['socket_errors_total']} socket errors {summary['socket_errors']}")
    if summary["other_4xx"]:
        problems.append(f"{summary['other_4xx']} unexpected 4xx responses")
    # Every 404 is one of the missing pages: at most the number sent (a few may be in flight at the end).
    if summary["not_found_404"] > summary["not_found_requests_sent"]:
        problems.append("more 404 responses than missing pages asked for: some real page answered 404")
    if summary["workers_seen"] > workers:
        problems.append(f"{summary['workers_seen'] - workers} worker(s) were replaced (crash or timeout)")
    for pid, rss in summary["worker_rss"].items():
        if rss["growth_after_warmup_mb"] > rss_growth_mb:
            problems.append(f"worker {pid} grew {rss['growth_after_warmup_mb']} MB after the warm-up")
    if summary["server_log_error_lines"]:
        problems.append(f"{summary['server_log_error_lines']} error lines in the server log")
    return problems


def markdown(summary, problems, command):
    """One run's block of the Load test section, between its own markers (one block per page-cache setting)."""
    m = summary["machine"]
    s = summary["setup"]
    lat = summary["latency_ms"]
    cache = s["page_cache_seconds"]
    lines = [
        run_marker(cache, "start"),
        f"### Page cache {'on (' + str(cache) + ' s, the default)' if cache else 'off (every request renders)'}",
        "",
        f"`{command}` on {summary['date'][:10]}: gunicorn ({s['gunicorn_workers']} sync workers, production "
        f"settings, SQLite) on 127.0.0.1 under wrk, {s['connections']} connections for {s['duration_s']} s, "
        f"against a database of {s['stories']:,} published stories made by the importer. The requests cycle "
        f"through home, a story, a topic, an outlet, a search and a missing page ({s['urls_per_kind']['story']} "
        f"stories, {s['urls_per_kind']['topic']} topics, {s['urls_per_kind']['provider']} outlets, "
        f"{s['urls_per_kind']['search']} searches, {s['urls_per_kind']['missing']} missing pages).",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gb']} GB memory, {m['os']}; Python {m['python']}, "
        f"SQLite {m['sqlite']}, {m['gunicorn']}, {m['wrk']}. wrk and the server share the machine.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| requests | {summary['requests']:,} ({summary['requests_per_s']:,} per second) |",
        f"| latency p50 / p90 / p99 / max | {lat['p50']} / {lat['p90']} / {lat['p99']} / {lat['max']} ms |",
        f"| responses by status | {', '.join(f'{k}: {v:,}' for k, v in summary['statuses'].items())} |",
        f"| 404 (all from the missing pages) | {summary['not_found_404']:,} of "
        f"{summary['not_found_requests_sent']:,} missing-page requests |",
        f"| 5xx responses | {summary['server_errors_5xx']} |",
        f"| socket errors (connect, read, write, timeout) | {summary['socket_errors_total']} |",
        f"| workers replaced | {summary['workers_seen'] - s['gunicorn_workers']} |",
    ]
    for pid, rss in summary["worker_rss"].items():
        lines.append(
            f"| worker {pid} memory (RSS): start / after warm-up / end / max | {rss['start_mb']} / "
            f"{rss['after_warmup_mb']} / {rss['end_mb']} / {rss['max_mb']} MB "
            f"({rss['growth_after_warmup_mb']:+} MB after warm-up) |"
        )
    lines += [
        "",
        "Verdict: " + ("zero 5xx, zero socket errors, worker memory stable." if not problems else "; ".join(problems)),
        run_marker(cache, "end"),
    ]
    return "\n".join(lines)


def run_marker(cache, which):
    return f"<!-- load-test:cache-{'on' if cache else 'off'}:{which} -->"


INTRO = """## Load test

`bench/load_test.py` builds a SQLite database of published stories with the importer, starts
gunicorn on 127.0.0.1 with production settings and drives it with wrk (Debian's `wrk` package):
home, story, topic, outlet, search and missing pages in turn, 60 seconds at 32 connections by
default. It samples the workers' resident memory every 2 seconds, stops the server's whole process
group at the end, and exits 1 on any 5xx response, socket error, replaced worker or memory growth.
Not part of `make test`. Rerun: `python bench/load_test.py --write-doc` (and `--page-cache 0`);
`--duration 10` for a quick check."""


def write_doc(block, cache):
    """Put this run's block into the Load test section of docs/benchmarks.md; other sections are kept."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    start, end = run_marker(cache, "start"), run_marker(cache, "end")
    if START not in text:
        text = text.rstrip() + "\n\n" + "\n".join([START, INTRO, "", END]) + "\n"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:  # the page-cache-on block first
        head, tail = text.split(END, 1)
        if cache and run_marker(0, "start") in head:
            before, after = head.split(run_marker(0, "start"), 1)
            head = before + block + "\n\n" + run_marker(0, "start") + after
        else:
            head = head.rstrip() + "\n\n" + block + "\n"
        text = head + END + tail
    DOC.write_text(text)


# --- crawl mode: every request a new URL --------------------------------------------------------------

CRAWL_START, CRAWL_END = "<!-- crawl:start -->", "<!-- crawl:end -->"

CRAWL_LUA = r"""
-- Every request a new random URL, as a scanner or a crawler of filter combinations sends them.
local topics, providers, stories, words = %(topics)s, %(providers)s, %(stories)s, %(words)s
local limit = %(per_thread)d  -- requests per thread: then the thread stops
local kinds = {"list", "list", "list", "list", "list", "list", "feed", "feed", "feed",
               "archive", "archive", "story", "story", "hostile", "hostile"}
local hostile = {"%%00", "%%01", "%%0A", "%%1F", "%%7F", "%%FF", "%%ED%%A0%%80", "%%C3"}
local threads = {}
statuses, sent = {}, {}  -- globals: done() reads them through thread:get()
refused = 0  -- 400 pages that name a control character or broken UTF-8: the hostile requests' answer
local received = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  for _ = 1, id * 97 do math.random() end
end

local function pick(list) return list[math.random(#list)] end

local function token(n)
  local chars = {}
  for i = 1, n do chars[i] = string.char(96 + math.random(26)) end
  return table.concat(chars)
end

local function date()
  return string.format("2020-%%02d-%%02d", math.random(1, 6), math.random(1, 28))
end

-- Random search and filter parameters: real values and made-up ones, empty fields, unknown names.
local function filters(with_sort)
  local p = {}
  local function maybe(chance, name, value) if math.random() < chance then table.insert(p, name .. "=" .. value) end end
  maybe(0.4, "q", pick(words) .. (math.random() < 0.5 and ("+" .. token(math.random(3, 8))) or ""))
  maybe(0.3, "topic", math.random() < 0.8 and pick(topics) or token(6))
  maybe(0.3, "provider", math.random() < 0.8 and pick(providers) or token(8))
  maybe(0.1, "mute", pick(providers))
  maybe(0.1, "category", math.random() < 0.5 and "news" or token(5))
  maybe(0.1, "type", math.random() < 0.5 and "article" or "video")
  maybe(0.2, "since", date())
  maybe(0.1, "until", date())
  maybe(0.2, "min_quality", tostring(math.random(0, 60)))
  if with_sort then maybe(0.2, "sort", "top") end
  maybe(0.2, "topic", "")  -- an empty form field
  maybe(0.3, "utm_source", token(10))  -- a parameter no page reads
  return table.concat(p, "&")
end

local function path(kind)
  if kind == "list" then
    local base = pick({"/", "/search/", "/topics/" .. pick(topics) .. "/"})
    return base .. "?" .. filters(base == "/")
  elseif kind == "feed" then
    return pick({"/feeds/search.rss", "/feeds/search.atom"}) .. "?" .. filters(false)
  elseif kind == "archive" then
    return string.format("/archive/2020/%%02d/%%02d/?utm_source=%%s", math.random(1, 6), math.random(1, 28), token(6))
  elseif kind == "story" then
    return pick(stories) .. pick({"?order=time", "?order=quality", "?ref=" .. token(8), ""})
  end
  local name = pick({"q", "topic", "provider", "category", "since", "after", "zz"})
  local base = pick({"/", "/search/", "/feeds/search.rss", "/feeds/search.atom", "/topics/" .. pick(topics) .. "/"})
  return base .. "?" .. name .. "=" .. token(4) .. pick(hostile) .. token(3)
end

function request()
  local kind = kinds[math.random(#kinds)]
  sent[kind] = (sent[kind] or 0) + 1
  return wrk.format("GET", path(kind))
end

-- A response does not say which request it answers (a thread's connections interleave): a 400
-- is told apart by its page, which names the problem.
function response(status, headers, body)
  statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  if status == 400 and (body:find("control character", 1, true) or body:find("not valid UTF-8", 1, true)) then
    refused = refused + 1
  end
  received = received + 1
  if received == limit then  -- tell load_test.py, which ends wrk (its main thread sleeps for -d)
    io.open(%(done_dir)s .. "/" .. id, "w"):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total_statuses, total_sent, total_refused = {}, {}, 0
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do total_statuses[key] = (total_statuses[key] or 0) + count end
    for key, count in pairs(thread:get("sent")) do total_sent[key] = (total_sent[key] or 0) + count end
    total_refused = total_refused + thread:get("refused")
  end
  local function object(t)
    local parts = {}
    for key, count in pairs(t) do table.insert(parts, string.format('"%%s": %%d', key, count)) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "duration_us": %%d, "errors": {"connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d}, "latency_us": {"p50": %%d, "p99": %%d, "max": %%d}, "statuses": %%s, ' ..
    '"sent": %%s, "refused_hostile": %%d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(99), latency.max,
    object(total_statuses), object(total_sent), total_refused))
end
"""


def lua_list(values):
    return "{" + ", ".join(json.dumps(value) for value in values) + "}"


def run_crawl(port, urls, requests, connections, threads, workdir):
    words = ["privacy", "robot", "cloud", "lawsuit", "chip", "startup", "police", "dataset", "hospital", "facial"]
    script, done_dir = workdir / "crawl.lua", workdir / "crawl-done"
    shutil.rmtree(done_dir, ignore_errors=True)
    done_dir.mkdir()
    script.write_text(
        CRAWL_LUA
        % {
            "topics": lua_list(urls["topic_slugs"]),
            "providers": lua_list(urls["provider_slugs"]),
            "stories": lua_list(urls["story"]),
            "words": lua_list(words),
            "per_thread": -(-requests // threads),
            "done_dir": json.dumps(str(done_dir)),
        }
    )
    # wrk runs for a duration: each thread stops after its share of the requests and leaves a
    # file in done_dir; once all have, SIGINT ends wrk (it still reports), before an idle
    # connection holds a sync worker until its timeout.
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", "3600s", "--timeout", "10s", "-s", str(script)]
    wrk = subprocess.Popen([*args, f"http://127.0.0.1:{port}/"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while wrk.poll() is None and len(list(done_dir.iterdir())) < threads:
        time.sleep(0.2)
    wrk.send_signal(signal.SIGINT)
    stdout, stderr = (out.decode(errors="replace") for out in wrk.communicate(timeout=60))
    line = next((line for line in stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({wrk.returncode}): {stderr or stdout}")
    return json.loads(line.removeprefix("WRK_JSON ")), stdout


def crawl_summary(wrk_result, memory, workers_seen, args, urls, log_path):
    statuses = wrk_result["statuses"]
    hostile_sent = wrk_result["sent"].get("hostile", 0)
    errors = wrk_result["errors"]
    seconds = wrk_result["duration_us"] / 1e6
    flat = {
        pid: rss["end_mb"] <= rss["after_warmup_mb"] * 1.2 and rss["max_mb"] <= rss["after_warmup_mb"] * 1.2
        for pid, rss in memory.items()
    }
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine_facts(),
        "setup": {
            "stories": urls["stories_in_db"],
            "gunicorn_workers": args.workers,
            "connections": args.connections,
            "page_cache_seconds": args.page_cache,
            "cache_max_bytes": args.cache_max_bytes,
            "warmup_s": args.crawl_warmup,
        },
        "requests": wrk_result["requests"],
        "seconds": round(seconds, 1),
        "requests_per_s": round(wrk_result["requests"] / seconds, 1) if seconds else 0,
        "latency_ms": {k: round(v / 1000, 1) for k, v in wrk_result["latency_us"].items()},
        "statuses": dict(sorted(statuses.items())),
        "sent_per_kind": dict(sorted(wrk_result["sent"].items())),
        "server_errors_5xx": sum(count for status, count in statuses.items() if status.startswith("5")),
        # Every 400 must be a hostile request's (its page names the problem) ...
        "bad_request_outside_hostile": statuses.get("400", 0) - wrk_result["refused_hostile"],
        # ... and every hostile request a 400, but for the few in flight when wrk stopped.
        "hostile_not_400": max(hostile_sent - wrk_result["refused_hostile"] - args.connections, 0),
        "socket_errors": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
        "workers_seen": len(workers_seen),
        "worker_rss": memory,
        "worker_rss_flat": flat,
        "server_log_error_lines": sum(
            1
            for line in Path(log_path).read_text(errors="replace").splitlines()
            if re.search(r"Traceback|\[ERROR\]|CRITICAL", line)
        ),
    }


def crawl_problems(summary):
    problems = []
    if summary["server_errors_5xx"]:
        problems.append(f"{summary['server_errors_5xx']} responses were 5xx")
    if sum(summary["socket_errors"].values()):
        problems.append(f"socket errors {summary['socket_errors']}")
    if summary["bad_request_outside_hostile"]:
        problems.append(f"{summary['bad_request_outside_hostile']} 400 responses to URLs with nothing hostile")
    if summary["hostile_not_400"]:
        problems.append(f"{summary['hostile_not_400']} hostile URLs not answered 400")
    if summary["workers_seen"] > summary["setup"]["gunicorn_workers"]:
        problems.append("a worker was replaced (crash or timeout)")
    for pid, flat in summary["worker_rss_flat"].items():
        if not flat:
            problems.append(f"worker {pid} grew more than 20% after the warm-up")
    if summary["server_log_error_lines"]:
        problems.append(f"{summary['server_log_error_lines']} error lines in the server log")
    return problems


def crawl_markdown(summary, problems, command):
    m, s, lat = summary["machine"], summary["setup"], summary["latency_ms"]
    cap = f"{s['cache_max_bytes'] / 2**20:g} MB" if s["cache_max_bytes"] else "the default (64 MB)"
    lines = [
        CRAWL_START,
        "## Crawl of distinct URLs",
        "",
        "Issue 14: a scanner's 103,000 requests grew each gunicorn worker to 354 MB (the local-memory",
        "cache held up to 5,000 whole pages, and every new combination of filter values was a new one).",
        "Since then a page is cached under its known, non-empty parameters, sorted (a request with a",
        "made-up or repeated parameter is rendered and neither read from nor stored in the cache), and the",
        "local-memory cache is capped in bytes (`CACHE_MAX_BYTES`), least recently used entries going first.",
        "Search pages and feeds with free text are still cached: a shared search link or a saved-search",
        "feed is read by many, and the byte cap bounds what a stream of unique searches can hold.",
        "",
        f"`{command}` on {summary['date'][:10]}: gunicorn ({s['gunicorn_workers']} sync workers, production "
        f"settings, SQLite, page cache {s['page_cache_seconds']} s, cache cap {cap}) under wrk, "
        f"{s['connections']} connections, against {s['stories']:,} published stories. Every request is a new "
        "random URL: home, search and topic lists and the search feeds with random search words and filter "
        "values (real and made-up, empty fields, an unknown parameter), day archives, story pages, and "
        "hostile values (control characters, broken UTF-8) in a parameter, which are answered 400 by design.",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gb']} GB memory; Python {m['python']}, "
        f"SQLite {m['sqlite']}, {m['gunicorn']}, {m['wrk']}. wrk and the server share the machine.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| requests | {summary['requests']:,} in {summary['seconds']:,} s "
        f"({summary['requests_per_s']:,} per second) |",
        f"| latency p50 / p99 / max | {lat['p50']} / {lat['p99']} / {lat['max']} ms |",
        f"| responses by status | {', '.join(f'{k}: {v:,}' for k, v in summary['statuses'].items())} |",
    ]
    lines += [
        f"| requests sent by kind | {', '.join(f'{k}: {v:,}' for k, v in summary['sent_per_kind'].items())} |",
        f"| 5xx responses | {summary['server_errors_5xx']} |",
        f"| 400 not naming a hostile character; hostile URLs not answered 400 | "
        f"{summary['bad_request_outside_hostile']}; {summary['hostile_not_400']} |",
        f"| socket errors (connect, read, write, timeout) | {sum(summary['socket_errors'].values())} |",
        f"| workers replaced | {summary['workers_seen'] - s['gunicorn_workers']} |",
    ]
    for pid, rss in summary["worker_rss"].items():
        growth = (rss["end_mb"] / rss["after_warmup_mb"] - 1) * 100 if rss["after_warmup_mb"] else 0
        lines.append(
            f"| worker {pid} memory (RSS): start / after {s['warmup_s']:g} s warm-up / end / max | {rss['start_mb']} / "
            f"{rss['after_warmup_mb']} / {rss['end_mb']} / {rss['max_mb']} MB (end {growth:+.0f}% of after warm-up) |"
        )
    verdict_text = "no 5xx, no socket error, every 400 by design, worker memory flat."
    lines += [
        "",
        "Verdict: " + ("; ".join(problems) if problems else verdict_text),
        CRAWL_END,
    ]
    return "\n".join(lines)


def write_crawl_doc(block):
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if CRAWL_START in text:
        text = re.sub(re.escape(CRAWL_START) + ".*?" + re.escape(CRAWL_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def crawl(args, env, urls, port, log_path):
    """--crawl: start the server, send the random URLs, sample memory; (summary, problems, wrk output)."""
    server = start_server(env, port, args.workers, log_path)
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        sampler = MemorySampler(server.pid, args.sample)
        sampler.start()
        log(f"wrk: {args.crawl:,} random URLs at {args.connections} connections on port {port} ...")
        wrk_result, wrk_output = run_crawl(port, urls, args.crawl, args.connections, args.threads, BENCH_DIR)
        sampler.stop.set()
        sampler.join(timeout=10)
    finally:
        stop_server(server)
        signal.signal(signal.SIGTERM, previous_handler)
    memory = memory_report(sampler, args.crawl_warmup)
    summary = crawl_summary(wrk_result, memory, sampler.workers_seen, args, urls, log_path)
    summary["rss_samples"] = sampler.samples
    return summary, crawl_problems(summary), wrk_output


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=5000, help="published stories in the database")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--page-cache", type=int, default=60, help="PAGE_CACHE_SECONDS (0: every request renders)")
    parser.add_argument("--sample", type=float, default=2.0, help="seconds between memory samples")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before memory growth is counted")
    parser.add_argument("--rss-growth-mb", type=float, default=20.0, help="most a worker may grow after warm-up")
    parser.add_argument("--write-doc", action="store_true", help="write the Load test section of docs/benchmarks.md")
    parser.add_argument(
        "--crawl", type=int, nargs="?", const=100_000, help="crawl mode: this many random URLs (default 100,000)"
    )
    parser.add_argument("--crawl-warmup", type=float, default=120.0, help="crawl: seconds before memory is compared")
    parser.add_argument("--cache-max-bytes", type=int, help="CACHE_MAX_BYTES for the server (default: the settings')")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")
    if args.duration < 1 or args.duration > 3600:
        sys.exit("--duration must be between 1 and 3600 seconds")

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    db, static_root = build_database(args.stories, BENCH_DIR)
    env = base_env(db, static_root, args.page_cache)
    urls = json.loads(
        subprocess.run(
            [sys.executable, "-c", URLS_SCRIPT], cwd=PROJECT, env=env, check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    log_path = BENCH_DIR / "load_test_server.log"
    if args.cache_max_bytes is not None:
        env["CACHE_MAX_BYTES"] = str(args.cache_max_bytes)
    if args.crawl:
        summary, problems, wrk_output = crawl(args, env, urls, port, log_path)
        summary["problems"] = problems
        out = BENCH_DIR / "load_test-crawl.json"
        out.write_text(json.dumps({**summary, "wrk_output": wrk_output}, indent=2) + "\n")
        print(json.dumps({k: v for k, v in summary.items() if k != "rss_samples"}, indent=2))
        command = f"python bench/load_test.py --crawl {args.crawl}"
        command += f" --cache-max-bytes {args.cache_max_bytes}" if args.cache_max_bytes is not None else ""
        if args.write_doc:
            write_crawl_doc(crawl_markdown(summary, problems, command))
            log(f"wrote the crawl section of {DOC.relative_to(PROJECT)}")
        log(f"summary saved to {out}")
        if problems:
            log("PROBLEMS: " + "; ".join(problems))
            sys.exit(1)
        return
    server = start_server(env, port, args.workers, log_path)
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        base = f"http://127.0.0.1:{port}"
        for kind in KINDS:  # every URL answers as expected before the load starts
            for path in urls[kind]:
                status = fetch_status(base + path)
                expected = 404 if kind == "missing" else 200
                if status != expected:
                    raise RuntimeError(f"{path} answered {status}, not {expected}")
        sampler = MemorySampler(server.pid, args.sample)
        sampler.start()
        log(f"wrk: {args.connections} connections for {args.duration} s on {base} ...")
        wrk_result, wrk_output = run_wrk(port, urls, args.duration, args.connections, args.threads, BENCH_DIR)
        sampler.stop.set()
        sampler.join(timeout=10)
    finally:
        stop_server(server)
        signal.signal(signal.SIGTERM, previous_handler)

    summary = summarize(
        wrk_result,
        urls,
        memory_report(sampler, args.warmup),
        sampler.workers_seen,
        args.workers,
        args.duration,
        args.connections,
        args.page_cache,
        log_path,
    )
    problems = verdict(summary, args.rss_growth_mb, args.workers)
    summary["problems"] = problems
    summary["wrk_output"] = wrk_output
    out = BENCH_DIR / f"load_test-cache-{'on' if args.page_cache else 'off'}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "wrk_output"}, indent=2))
    command = "python bench/load_test.py" + (f" --stories {args.stories}" if args.stories != 5000 else "")
    command += f" --duration {args.duration}" if args.duration != 60 else ""
    command += f" --page-cache {args.page_cache}" if args.page_cache != 60 else ""
    block = markdown(summary, problems, command)
    if args.write_doc:
        write_doc(block, args.page_cache)
        log(f"wrote the Load test section of {DOC.relative_to(PROJECT)}")
    log(f"summary saved to {out}")
    if problems:
        log("PROBLEMS: " + "; ".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
