"""Stored counts (stories per topic, per outlet): a recount stores only what differs, and
every import run recounts, so a re-run repairs counts an interrupted run left behind."""

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from bench.make_corpus import write_corpus
from stories.caching import generation
from stories.counts import Recounted, refresh_counts
from stories.importer import ImportReport, import_paths
from stories.models import Coverage, Provider, Story, Topic
from tests.dbutil import PROJECT, manage_env, query, run_manage, scratch_database
from tests.factories import make_provider, make_story, run_import

SEEDS = Path(__file__).resolve().parent.parent / "data" / "seeds"
WRITES = ("INSERT", "UPDATE", "DELETE")
SHOWN = re.compile(r"Led (\d+) stor(?:y|ies) · Covered (\d+) ·")

pytestmark = pytest.mark.django_db


def stored():
    providers = Provider.objects.values_list("slug", "led_count", "covered_count")
    return {
        "topics": dict(Topic.objects.values_list("slug", "story_count")),
        "providers": {slug: [led, covered] for slug, led, covered in providers},
    }


def recounted():
    """The counts, counted again here row by row (not by the code under test)."""
    topics = dict.fromkeys(Topic.objects.values_list("slug", flat=True), 0)
    for slug in Story.topics.through.objects.filter(story__published=True).values_list("topic__slug", flat=True):
        topics[slug] += 1
    providers = {slug: [0, 0] for slug in Provider.objects.values_list("slug", flat=True)}
    for slug in Story.objects.filter(published=True).values_list("lead__provider__slug", flat=True):
        providers[slug][0] += 1
    items = Coverage.objects.filter(story__published=True, hidden=False)  # taken down: counts for nothing
    covered = set(items.values_list("story_id", "article__provider__slug"))
    for _story, slug in covered:
        providers[slug][1] += 1
    return {"topics": topics, "providers": providers}


def zero_every_count():
    Topic.objects.update(story_count=0)
    Provider.objects.update(led_count=0, covered_count=0)


def shown(response):
    """The led and covered counts an outlet page shows."""
    assert response.status_code == 200
    return [int(n) for n in SHOWN.search(response.content.decode()).groups()]


def writes(queries):
    return [q["sql"] for q in queries if q["sql"].split()[0].upper() in WRITES]


# --- refresh_counts ------------------------------------------------------------------


def test_a_recount_with_every_count_right_reads_and_writes_nothing():
    assert run_import(SEEDS)[0] == 0
    assert stored() == recounted()
    with CaptureQueriesContext(connection) as queries:
        assert refresh_counts() == Recounted(0, 0)
    assert len(queries) == 5  # three grouped counts, the stored topic and outlet counts
    assert writes(queries) == []


def test_a_recount_stores_only_the_counts_that_differ_and_says_how_many():
    assert run_import(SEEDS)[0] == 0
    right = recounted()
    topics = list(Topic.objects.filter(story_count__gt=0).order_by("pk")[:2])
    providers = list(Provider.objects.filter(led_count__gt=0).order_by("pk")[:3])
    Topic.objects.filter(pk__in=[t.pk for t in topics]).update(story_count=0)
    Provider.objects.filter(pk=providers[0].pk).update(led_count=0)
    Provider.objects.filter(pk=providers[1].pk).update(covered_count=999)
    Provider.objects.filter(pk=providers[2].pk).update(led_count=0, covered_count=0)

    with CaptureQueriesContext(connection) as queries:
        assert refresh_counts() == Recounted(topics=2, providers=3)
    assert len(writes(queries)) == 2  # one UPDATE per table, of the stale rows only
    assert stored() == right
    assert refresh_counts().changed == 0


def test_a_recount_by_story_ids_rewrites_what_those_stories_touch_and_nothing_else():
    assert run_import(SEEDS)[0] == 0
    story = Story.objects.filter(published=True, coverage_count__gt=0).order_by("pk").first()
    touched_topics = set(story.topics.values_list("pk", flat=True))
    touched_providers = {story.lead.provider_id} | set(
        story.coverage_items.values_list("article__provider_id", flat=True)
    )
    Story.objects.filter(pk=story.pk).update(published=False)
    Provider.objects.exclude(pk__in=touched_providers).update(covered_count=999)  # not its business

    result = refresh_counts([story.pk])
    right = recounted()
    assert result.topics == len(touched_topics)
    assert result.providers == len(touched_providers)
    assert stored()["topics"] == right["topics"]
    for provider in Provider.objects.all():
        if provider.pk in touched_providers:
            assert [provider.led_count, provider.covered_count] == right["providers"][provider.slug]
        else:
            assert provider.covered_count == 999
    with CaptureQueriesContext(connection) as queries:
        assert refresh_counts([]) == Recounted(0, 0)
    assert len(queries) == 0


# --- the import command ----------------------------------------------------------------


def test_counts_zeroed_by_hand_are_repaired_by_a_rerun_of_unchanged_files_and_the_pages_answer(client, signals):
    assert run_import(SEEDS)[0] == 0
    right = recounted()
    topic = Topic.objects.filter(story_count__gt=0).order_by("pk").first()
    provider = Provider.objects.filter(led_count__gt=0).order_by("pk").first()
    zero_every_count()
    signals.clear()
    assert client.get(topic.get_absolute_url()).status_code == 404
    assert shown(client.get(provider.get_absolute_url())) == [0, 0]

    status, _, _ = run_import(SEEDS, dry_run=True)  # a dry run writes nothing, counts included
    assert status == 0
    assert stored()["topics"][topic.slug] == 0 and signals == []

    status, out, err = run_import(SEEDS, verbosity=2)
    assert (status, err) == (0, "")
    assert "created 0, updated 0, unchanged 46, failed 0" in out
    topics_changed = sum(1 for n in right["topics"].values() if n)
    providers_changed = sum(1 for n in right["providers"].values() if any(n))
    assert topics_changed and providers_changed
    assert f"counts: {topics_changed} topics and {providers_changed} outlets corrected" in out
    assert stored() == right
    assert len(signals) == 1  # the caches are told: the counts changed

    assert client.get(topic.get_absolute_url()).status_code == 200
    assert shown(client.get(provider.get_absolute_url())) == right["providers"][provider.slug]
    listed = client.get("/topics/").content.decode()
    assert f'>{topic.name}</a> <span class="count">{right["topics"][topic.slug]} stor' in listed


def test_an_unchanged_rerun_with_right_counts_writes_nothing_and_leaves_the_caches_alone(signals):
    assert run_import(SEEDS)[0] == 0
    assert len(signals) == 1
    before = generation()
    with CaptureQueriesContext(connection) as queries:
        status, out, _ = run_import(SEEDS, verbosity=2)
    assert status == 0
    assert "unchanged 46" in out and "counts: 0 topics and 0 outlets corrected" in out
    assert writes(queries) == []
    assert len(signals) == 1  # no second signal: every cached page stays
    assert generation() == before


def test_a_failed_recount_says_a_rerun_repairs_it_and_a_rerun_does(signals):
    with mock.patch(
        "stories.importer.runner.refresh_counts",
        side_effect=OperationalError("database is locked"),
    ):
        status, out, err = run_import(SEEDS)
    assert status == 1
    assert "created 45, updated 1, unchanged 0, failed 0" in out
    assert [line for line in err.splitlines() if not line.startswith("warning: ")] == [
        "refreshing counts: database: database is locked; the stories are imported; run the command again "
        "(it recounts every topic and outlet even when no file changed)"
    ]
    assert len(signals) == 1  # the stories changed
    assert set(stored()["topics"].values()) == {0}

    status, out, err = run_import(SEEDS, verbosity=0)
    assert (status, out, err) == (0, "", "")
    assert stored() == recounted()
    assert len(signals) == 2


# --- import_paths, without the command ---------------------------------------------------


def test_import_paths_recounts_and_tells_the_caches_itself(signals):
    report = import_paths([SEEDS], on_error=pytest.fail)
    assert (report.created, report.updated, report.failed) == (45, 1, 0)
    assert stored() == recounted()
    assert report.recounted.changed > 0 and report.counts_error == ""
    assert signals == [ImportReport]

    zero_every_count()
    report = import_paths([SEEDS], on_error=pytest.fail)  # nothing to write: the recount repairs
    assert report.unchanged == 46 and report.recounted.changed > 0
    assert stored() == recounted()
    assert signals == [ImportReport, ImportReport]

    report = import_paths([SEEDS], on_error=pytest.fail)
    assert report.recounted == Recounted(0, 0)
    assert len(signals) == 2  # nothing changed: the caches keep their pages


def test_a_dry_run_of_import_paths_neither_recounts_nor_signals(signals):
    report = import_paths([SEEDS], dry_run=True, on_error=pytest.fail)
    assert report.created == 46 and report.recounted is None
    assert signals == []


def test_a_failed_recount_is_reported_not_raised_after_the_documents_are_in(signals):
    error = OperationalError("database is locked\nsecond line")
    with mock.patch("stories.importer.runner.refresh_counts", side_effect=error):
        report = import_paths([SEEDS], on_error=pytest.fail)
    assert report.written == 46 and report.failed == 0
    assert (report.recounted, report.counts_error) == (None, "database is locked")
    assert signals == [ImportReport]


# --- the factories keep the counts too ------------------------------------------------------


def test_stories_made_by_the_factories_keep_every_stored_count(signals):
    wire, globe = make_provider("wire.example.com"), make_provider("globe.example.com")
    make_story("One", provider=globe, topics=["AI", "Robots"], coverage=[{"provider": wire}, {"provider": wire}])
    make_story("Two", provider=wire, topics=["AI"], coverage=[{"provider": globe}])
    make_story("Draft", provider=globe, topics=["Robots"], published=False, coverage=[{"provider": wire}])
    assert stored() == recounted()
    assert stored()["providers"][wire.slug] == [1, 1]  # covered once per story however many items
    assert stored()["topics"] == {"ai": 2, "robots": 1}
    assert signals == []  # a test's setup tells no cache


# --- killed between the last commit and the recount, in real processes ---------------------

# Every document is committed when import_paths calls refresh_counts(): dying right there is
# what a SIGKILL (or a crash) after the last commit leaves behind.
KILLED_BEFORE_RECOUNT = """
import os, signal, sys
import django
django.setup()
import stories.importer.runner as runner

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

runner.refresh_counts = killed
from django.core.management import call_command
call_command("import_stories", *sys.argv[1:])
"""

# Run in a shell on the scratch database: the stored counts, a recount, and the pages' answers.
STATE = """
import json, re
from django.test import Client
from django.test.utils import setup_test_environment
from stories.models import Coverage, Provider, Story, Topic

setup_test_environment()
topics = {slug: [n, 0] for slug, n in Topic.objects.values_list("slug", "story_count")}
for slug in Story.topics.through.objects.filter(story__published=True).values_list("topic__slug", flat=True):
    topics[slug][1] += 1
providers = {slug: [[led, covered], [0, 0]] for slug, led, covered in Provider.objects.values_list(
    "slug", "led_count", "covered_count")}
for slug in Story.objects.filter(published=True).values_list("lead__provider__slug", flat=True):
    providers[slug][1][0] += 1
covered = Coverage.objects.filter(story__published=True).values_list("story_id", "article__provider__slug")
for _story, slug in set(covered):
    providers[slug][1][1] += 1
client = Client()
pages = {}
for slug, (_, n) in topics.items():
    if n:
        pages[f"/topics/{slug}/"] = client.get(f"/topics/{slug}/").status_code
shown = {}
for slug, (_, n) in providers.items():
    if any(n):
        page = client.get(f"/providers/{slug}/")
        pages[f"/providers/{slug}/"] = page.status_code
        found = re.search(r"Led (\\d+) stor(?:y|ies) · Covered (\\d+) ·", page.content.decode())
        shown[slug] = [int(n) for n in found.groups()] if found else None
listed = client.get("/topics/")
print(json.dumps({
    "stories": Story.objects.count(),
    "topics": topics,
    "providers": providers,
    "pages": pages,
    "shown": shown,
    "topic_list": [listed.status_code, listed.content.decode()],
}))
"""

LISTED = re.compile(r'<a href="/topics/([^/"]+)/">[^<]*</a> <span class="count">(\d+) stor')


def state(url):
    return json.loads(query(url, STATE).splitlines()[-1])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_an_import_killed_after_its_last_commit_is_healed_by_a_rerun_pages_included(tmp_path):
    corpus = tmp_path / "corpus"
    paths = write_corpus(corpus, 12, seed=31, related=(1, 4), all_published=True)
    with scratch_database(tmp_path) as url:
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_BEFORE_RECOUNT, "-v", "0", "--batch-size", "5", str(corpus)],
            cwd=PROJECT,
            env=manage_env(url),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        before = state(url)
        assert before["stories"] == len(paths)  # every document was committed
        wrong_topics = [slug for slug, (kept, right) in before["topics"].items() if kept != right]
        wrong_providers = [slug for slug, (kept, right) in before["providers"].items() if kept != right]
        assert wrong_topics and wrong_providers
        assert all(kept == 0 for kept, _ in before["topics"].values())
        # What readers got: no topic page; outlet pages (found through the stories) with wrong counts.
        topic_pages = [path for path in before["pages"] if path.startswith("/topics/")]
        assert topic_pages and {before["pages"][path] for path in topic_pages} == {404}
        assert before["shown"] and all(shown == [0, 0] for shown in before["shown"].values() if shown)
        assert before["topic_list"][0] == 200 and LISTED.findall(before["topic_list"][1]) == []

        rerun = run_manage(url, "import_stories", "-v", "0", str(corpus))
        assert (rerun.returncode, rerun.stdout, rerun.stderr) == (0, "", "")  # every file unchanged
        after = state(url)
        assert after["stories"] == len(paths)
        for kept, right in [*after["topics"].values(), *after["providers"].values()]:
            assert kept == right
        assert after["pages"].keys() == before["pages"].keys()
        assert set(after["pages"].values()) == {200}
        assert after["shown"] == {slug: right for slug, (_, right) in after["providers"].items() if any(right)}
        status, html = after["topic_list"]
        assert status == 200
        assert dict(LISTED.findall(html)) == {slug: str(right) for slug, (_, right) in after["topics"].items() if right}

        again = run_manage(url, "import_stories", "-v", "2", str(corpus))
        assert again.returncode == 0, again.stderr
        assert "counts: 0 topics and 0 outlets corrected" in again.stdout


def test_an_item_taken_down_counts_for_nothing_in_a_full_recount_or_by_story():
    from stories import takedown

    alpha, beta = make_provider("alpha.example.com"), make_provider("beta.example.com")
    story = make_story("Ferries", coverage=[{"provider": alpha}, {"provider": alpha}, {"provider": beta}])
    twice = make_story("Trains", coverage=[{"provider": alpha}])
    first, second = [item.article for item in story.coverage_items.filter(article__provider=alpha)]
    takedown.hide_coverage(story, first, "Dead link")
    assert Provider.objects.get(pk=alpha.pk).covered_count == 2, "its other item still covers the story"
    takedown.hide_coverage(story, second, "Dead link")
    takedown.hide_coverage(twice, twice.coverage_items.get().article, "Wrong link")
    assert Provider.objects.get(pk=alpha.pk).covered_count == 0
    assert stored() == recounted()
    zero_every_count()
    refresh_counts()
    assert stored() == recounted()
    assert stored()["providers"]["beta-example-com"] == [0, 1]
    assert stored()["providers"]["alpha-example-com"] == [0, 0]
