"""Every page is valid HTML, as the Nu HTML Checker (vnu) sees it, whatever the filter parameters.

The site with the bundled data is crawled through the test client (every page type,
their pagination, their links), together with list, search and archive pages given
good and bad filter parameters; the pages are written to files and checked by one
run of vnu. vnu.jar is found at $VNU_JAR or where `bash .ci/install-vnu.sh` puts it;
without it or Java the test is skipped, except in CI (CI=true), where it fails.
"""

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from html import unescape
from pathlib import Path
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve
from django.utils import timezone

from stories.models import Provider, Story, Topic

PROJECT = Path(__file__).resolve().parents[1]
VNU_JAR = Path(os.environ.get("VNU_JAR") or PROJECT / "var/vnu/node_modules/vnu-jar/build/dist/vnu.jar")
JAVA = shutil.which("java")
PER_PAGE = 10  # the bundled data fills few pages of 30: page by 10 to reach the later pages
PER_KIND = 25  # pages crawled per kind of page (story, outlet...): they share their templates
NOT_PAGES = ("/static/", "/admin/", "/feeds/", "/sitemap", "/robots.txt", "/favicon")

# Filter parameters, good and bad, each tried on every list, search and archive page.
FILTERS = [
    {"since": "06/01/2020"},
    {"since": "notadate"},
    {"since": "2020-13-45"},
    {"since": "2020-6-1"},
    {"since": "2020-06-01"},
    {"until": "2020-06-30"},
    {"since": "2020-06-30", "until": "2020-06-01"},
    {"since": "0001-01-01", "until": "9999-12-31"},
    {"min_quality": "abc"},
    {"min_quality": "-5"},
    {"min_quality": "1e3"},
    {"min_quality": "99999999999"},
    {"min_quality": "50"},
    {"topic": "nope"},
    {"provider": "nope"},
    {"mute": "nope"},
    {"mute": "nope,also-nope"},
    {"topic": '"><script>alert(1)</script>'},
    {"category": "<script>alert(1)</script>"},
    {"category": "x" * 150},
    {"type": 'it\'s a "video"'},
    {"type": '"><b>bold</b>'},
    {"q": "<b>facial</b> \"quoted\" & 'single'"},
    {"provider": "", "mute": "", "category": "", "type": "", "since": "", "until": "", "min_quality": ""},
    {"since": "notadate", "until": "2020-13-45", "min_quality": "abc", "topic": "nope", "provider": "nope"},
]
RAW_QUERIES = ["since=2020-06-01&since=notadate", "q=%FF%FE&since=%00", "min_quality=%E2%80%8B5"]


def checker_missing():
    if not JAVA:
        return "Java not found"
    if not VNU_JAR.is_file():
        return f"vnu.jar not found at {VNU_JAR}"
    return None


def page_kind(url):
    try:
        return resolve(urlsplit(url).path).url_name
    except Resolver404:
        return None


def links(url, html):
    """The site's own page addresses linked from ``html``, resolved against ``url``."""
    for href in re.findall(r'href="([^"]*)"', html):
        target = urldefrag(urljoin(url, unescape(href)))[0]
        if target.startswith("/") and not target.startswith("//") and not target.startswith(NOT_PAGES):
            yield target


def seed_urls():
    """Every page type, and the list, search and archive pages with each set of filter parameters."""
    topic = Topic.objects.filter(story_count__gt=0).order_by("-story_count").first()
    outlet = Provider.objects.filter(led_count__gt=0).order_by("-led_count").first()
    story = Story.objects.published().order_by("-published_at").first()
    day = timezone.localdate(story.published_at)
    archive = f"/archive/{day:%Y/%m/%d}/"
    filtered = ["/", "/?sort=top", "/search/", "/search/?q=facial", f"/topics/{topic.slug}/", archive]
    good = {"topic": topic.slug, "provider": outlet.slug, "mute": outlet.slug, "since": "2020-01-01"}
    urls = ["/", "/topics/", "/providers/", f"/providers/{outlet.slug}/", story.get_absolute_url(), "/no/such/page/"]
    for base in filtered:
        join = "&" if "?" in base else "?"
        urls += [f"{base}{join}{urlencode(params)}" for params in [*FILTERS, good]]
        urls += [f"{base}{join}{query}" for query in RAW_QUERIES]
    urls += [f"/providers/{outlet.slug}/?{urlencode(params)}" for params in FILTERS[:3]]  # ignored there
    return urls


def crawl(client):
    """{url: html} of the seed pages and of the pages they link to, up to PER_KIND of each kind; error pages too."""
    pages, queue, kinds = {}, list(dict.fromkeys(seed_urls())), {}
    seeds = len(queue)
    for index, url in enumerate(queue):
        kind = page_kind(url)
        if index >= seeds:  # a discovered link, not a seed: a few of each kind suffice
            kinds[kind] = kinds.get(kind, 0) + 1
            if kinds[kind] > PER_KIND:
                continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if 300 <= response.status_code < 400 or "text/html" not in response.get("Content-Type", ""):
            continue
        pages[url] = html = response.content.decode()
        queue += [link for link in links(url, html) if link not in pages and link not in queue]
    return pages


def vnu(files):
    """vnu's messages on ``files``: one JVM for them all."""
    command = [JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout", *map(str, files)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        return json.loads(result.stdout)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"vnu failed (exit {result.returncode}): {result.stdout[-2000:]} {result.stderr[-2000:]}")


@pytest.mark.django_db
def test_every_page_is_valid_html(client, settings, monkeypatch, tmp_path):
    missing = checker_missing()
    if missing:
        reason = f"{missing}: install the Nu HTML Checker with `bash .ci/install-vnu.sh` to check the HTML"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    settings.PAGE_CACHE_SECONDS = 0
    monkeypatch.setattr("stories.views.PER_PAGE", PER_PAGE)
    call_command(
        "import_stories", str(PROJECT / "data" / "seeds"), str(PROJECT / "tests" / "data" / "e2e"), verbosity=0
    )

    pages = crawl(client)
    files = {}
    for number, (url, html) in enumerate(pages.items()):
        path = tmp_path / f"page-{number:04d}.html"
        path.write_text(html, encoding="utf-8")
        files[path.name] = url
    messages = vnu(tmp_path / name for name in files)

    problems = [
        f"{files.get(Path(urlsplit(m.get('url', '')).path).name, m.get('url'))} line {m.get('lastLine')}: "
        f"{m.get('type')}: {m.get('message')}  [{' '.join((m.get('extract') or '').split())}]"
        for m in messages
    ]
    kinds = Counter(page_kind(url) for url in pages)
    print(f"vnu checked {len(pages)} pages ({dict(kinds)}): {len(problems)} errors", *problems, sep="\n")
    every = {"home", "story_detail", "topic_list", "topic_detail", "provider_list", "provider_detail"}
    assert every | {"search", "day_archive", None} <= kinds.keys(), kinds  # None: the 404 page
    assert not problems, "\n".join(problems)
