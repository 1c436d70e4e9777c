"""Publishing and unpublishing (stories.publishing), called directly: no admin, no client."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stories import publishing
from stories.models import Provider, Story, Topic
from tests.factories import make_provider, make_story, make_topic

pytestmark = pytest.mark.django_db

DECIDED = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def newsroom():
    """Two drafts and one published story, all led by one outlet and covered by another, on one topic."""
    lead, wire = make_provider("lead.example.com"), make_provider("wire.example.com")
    topic = make_topic("Robots")
    drafts = [
        make_story(f"Draft {n}", provider=lead, published=False, topics=[topic], coverage=[{"provider": wire}])
        for n in range(2)
    ]
    live = make_story("Live", provider=lead, topics=[topic], coverage=[{"provider": wire}])
    return {"lead": lead, "wire": wire, "topic": topic, "drafts": drafts, "live": live}


def stored_counts(newsroom):
    lead = Provider.objects.get(pk=newsroom["lead"].pk)
    wire = Provider.objects.get(pk=newsroom["wire"].pk)
    topic = Topic.objects.get(pk=newsroom["topic"].pk)
    return {"topic": topic.story_count, "led": lead.led_count, "covered": wire.covered_count}


def of(*stories):
    return Story.objects.filter(pk__in=[story.pk for story in stories])


def test_publishing_sets_the_flag_stamps_the_decision_and_says_what_changed(newsroom):
    drafts, live = newsroom["drafts"], newsroom["live"]
    decision = publishing.set_published(of(*drafts, live), True, now=DECIDED)
    assert decision.published is True and decision.decided_at == DECIDED
    assert sorted(story.pk for story in decision.changed) == sorted(story.pk for story in drafts)
    assert [story.pk for story in decision.kept] == [live.pk]
    for story in Story.objects.filter(pk__in=[s.pk for s in [*drafts, live]]):
        assert story.published
        assert story.editor_decided_at == DECIDED  # the one already published too: re-imports leave it
    assert {story.pk: story.updated_at == DECIDED for story in Story.objects.all()} == {
        drafts[0].pk: True,
        drafts[1].pk: True,
        live.pk: False,  # its row did not change
    }


def test_the_stories_returned_name_themselves_without_another_query(newsroom):
    decision = publishing.publish(of(*newsroom["drafts"]))
    with CaptureQueriesContext(connection) as queries:
        names = sorted(str(story) for story in decision.changed)
    assert names == ["Draft 0", "Draft 1"]
    assert len(queries) == 0  # what the admin's history entries need is loaded


def test_publishing_and_unpublishing_recount_what_the_stories_touch(newsroom):
    assert stored_counts(newsroom) == {"topic": 1, "led": 1, "covered": 1}  # the factories keep the counts
    publishing.publish(of(*newsroom["drafts"]))
    assert stored_counts(newsroom) == {"topic": 3, "led": 3, "covered": 3}
    publishing.unpublish(of(newsroom["live"], newsroom["drafts"][0]))
    assert stored_counts(newsroom) == {"topic": 1, "led": 1, "covered": 1}


def test_the_caches_are_told_once_and_only_after_the_commit(newsroom, signals, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publishing.publish(of(*newsroom["drafts"]))
        assert signals == []  # not before the commit: a cache refilled meanwhile would hold the old page
    assert len(callbacks) == 1
    callbacks[0]()
    assert signals == [Story]


def test_nothing_changed_means_no_recount_and_no_signal_but_the_decision_is_stamped(
    newsroom, signals, django_capture_on_commit_callbacks
):
    live = newsroom["live"]
    Topic.objects.update(story_count=99)  # a recount would show
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        decision = publishing.publish(of(live))
    assert (decision.changed, [story.pk for story in decision.kept]) == ([], [live.pk])
    assert signals == []
    assert set(Topic.objects.values_list("story_count", flat=True)) == {99}
    assert not [q["sql"] for q in queries if '"stories_topic"' in q["sql"] or '"stories_provider"' in q["sql"]]
    live.refresh_from_db()
    assert live.published and live.editor_decided_at is not None


def test_an_empty_selection_does_nothing(signals, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decision = publishing.unpublish(Story.objects.none())
    assert (decision.changed, decision.kept) == ([], [])
    assert signals == []


def test_a_selection_with_joins_and_distinct_is_read_as_plain_rows(newsroom):
    selection = Story.objects.filter(topics__name="Robots", coverage__provider=newsroom["wire"]).distinct()
    decision = publishing.unpublish(selection)
    assert len(decision.changed) == 1 and len(decision.kept) == 2
    assert not Story.objects.filter(published=True).exists()
    assert stored_counts(newsroom) == {"topic": 0, "led": 0, "covered": 0}


def test_past_the_threshold_one_full_recount_replaces_the_recount_by_id(newsroom, monkeypatch):
    monkeypatch.setattr(publishing, "RECOUNT_ALL_ABOVE", 1)
    with mock.patch.object(publishing, "refresh_counts", wraps=publishing.refresh_counts) as recount:
        publishing.publish(of(*newsroom["drafts"]))
    recount.assert_called_once_with(None)
    assert stored_counts(newsroom) == {"topic": 3, "led": 3, "covered": 3}
    with mock.patch.object(publishing, "refresh_counts", wraps=publishing.refresh_counts) as recount:
        publishing.unpublish(of(newsroom["live"]))
    recount.assert_called_once_with([newsroom["live"].pk])


def test_updates_go_in_chunks(monkeypatch):
    monkeypatch.setattr(publishing, "UPDATE_CHUNK", 2)
    drafts = [make_story(f"Draft {n}", published=False) for n in range(5)]
    with CaptureQueriesContext(connection) as queries:
        decision = publishing.publish(of(*drafts))
    assert len(decision.changed) == 5
    story_updates = [q for q in queries if q["sql"].startswith('UPDATE "stories_story"')]
    assert len(story_updates) == 3  # 2 + 2 + 1
    assert Story.objects.filter(published=True, editor_decided_at__isnull=False).count() == 5
