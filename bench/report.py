"""Render bench/results/latest.json as Markdown: bench/results/latest.md and the
"Benchmarks" section of docs/benchmarks.md (other sections of that file are kept).

    python bench/report.py
"""

import contextlib
import json
import os
import platform
import re
import sqlite3
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"

IMPORT_TARGETS = "one process ≥ 0.8 of parse-only; --jobs 2 ≥ 1.5 x one process; re-import ≥ import; peak RSS < 150 MB"
PAGE_TARGETS = (
    "uncached: story ≥ 0.25 and lists ≥ 0.15 of the ceiling; cached: every page ≥ 0.6; "
    "p99 at 2 connections: story < 30 ms, lists < 75 ms; page 500 ≤ 1.5 x first page; "
    "story at 100k ≤ 1.3 x at 10k"
)


def machine():
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
        "?",
    )
    postgres = "not measured"
    with contextlib.suppress(OSError):
        postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(memory) / 1024 / 1024:.0f} GiB memory, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {postgres} (client)"
    )


def import_table(results):
    lines = []
    for database, sizes in results.items():
        lines += [
            f"**Import, {database}** (medians of {next(iter(sizes.values()))['runs']} runs; targets: {IMPORT_TARGETS})",
            "",
            "| documents | parse-only limit | run | docs/s (median) | runs: slowest to fastest | x limit | peak RSS |",
            "|---:|---:|---|---:|---:|---:|---:|",
        ]
        for size, result in sorted(sizes.items(), key=lambda item: int(item[0])):
            for key in ("import_jobs1", "reimport_jobs1", "import_jobs2", "reimport_jobs2"):
                if key in result:
                    row = result[key]
                    spread = row.get("runs_docs_per_s") or [row["docs_per_s"]]
                    lines.append(
                        f"| {int(size):,} | {result['parse_only_docs_per_s']:,.0f}/s | {key.replace('_', ' ')} "
                        f"| {row['docs_per_s']:,.0f} | {spread[0]:,.0f} to {spread[-1]:,.0f} "
                        f"| {row['ratio_to_parse_only']:.2f} | {row['peak_rss_mb']:.0f} MB |"
                    )
            if "language_detection" in result:
                cost = result["language_detection"]
                lines.append(
                    f"| {int(size):,} | | of which language detection | {cost['ms_per_document']:.2f} ms per document "
                    f"({cost['articles_per_document']} articles) | | | |"
                )
            if "import_jobs2" in result and "import_jobs1" in result:
                speedup = result["import_jobs2"]["docs_per_s"] / result["import_jobs1"]["docs_per_s"]
                lines.append(f"| {int(size):,} | | --jobs 2 ÷ one process | {speedup:.2f} x | | | |")
        lines.append("")
    return lines


def pages_table(pages):
    lines = [
        f"**Pages** ({pages['stories']:,} published stories x 10 coverage items; gunicorn, 2 sync workers; "
        f"wrk {pages['seconds_per_run']} s per figure, median of {pages['runs']}) — targets: {PAGE_TARGETS}",
        "",
        "| page | req/s, page cache off | x ceiling | p50 / p99 ms (2 conn.) | req/s, page cache on | x ceiling "
        "| CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    cpu = pages["cpu_ms_per_request"]["large"]
    for name, row in pages["uncached"].items():
        cached = pages["cached"][name]
        lines.append(
            f"| {name} | {row['req_per_s']:,.0f} | {row['ratio_to_ceiling']:.2f} "
            f"| {row['p50_ms']:.1f} / {row['p99_ms']:.1f} "
            f"| {cached['req_per_s']:,.0f} | {cached['ratio_to_ceiling']:.2f} | {cpu.get(name, 0):.2f} |"
        )
    lines += [
        "",
        "- Page cache off: every request runs the view and renders its template; the smaller caches stay on "
        "(rendered story cards, the unfiltered filter form, the topic and outlet directories, an outlet's "
        "summary), each keyed by the content generation.",
        f"- Page 500 of the home list costs {pages['page_500_vs_first']:.2f} x the first page (CPU ms in process).",
        f"- A story page at {pages['stories']:,} stories costs {pages['story_large_vs_small']:.2f} x its cost at "
        f"the small database ({pages['cpu_ms_per_request']['small']['story']:.2f} ms).",
        "",
    ]
    return lines


def main():
    data = json.loads((HERE / "results" / "latest.json").read_text())
    lines = [
        START,
        "## Benchmarks",
        "",
        f"Machine: {machine()}. Written by `make bench` on {time.strftime('%Y-%m-%d')} "
        f"(import measured {data.get('import_measured_at', '-')}, pages under load "
        f"{data.get('pages_measured_at', '-')}, CPU per request {data.get('pages_cpu_measured_at', '-')}).",
        "",
    ]
    if "import" in data:
        lines += import_table(data["import"])
    if "pages" in data:
        lines += pages_table(data["pages"])
    lines.append(END)
    section = "\n".join(lines)
    (HERE / "results" / "latest.md").write_text(section + "\n")
    doc = PROJECT / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n\n"
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
