"""stories.cards: rendered story cards from the card cache, and cards under day headings."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from stories.caching import generation
from stories.cards import RELTIME_MARK, card_key, day_groups, story_cards
from stories.models import Story
from stories.signals import content_changed
from stories.templatetags.reader import day_label
from tests.factories import BASE_TIME, hours, make_story

pytestmark = pytest.mark.django_db

PICTURE = {"url": "https://example.com/a.jpg", "width": 640, "height": 360}


def keys_of(*stories):
    """The stories as a list page reads them: ids, times and sort keys only."""
    by_pk = Story.objects.for_card_keys().in_bulk([story.pk for story in stories])
    return [by_pk[story.pk] for story in stories]


def test_no_stories_no_cards_and_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert story_cards([]) == []


def test_cards_come_in_order_and_then_from_the_cache(django_assert_num_queries):
    first, second = keys_of(make_story("First headline", topics=["AI"]), make_story("Second headline"))
    with django_assert_num_queries(1):  # the stories whole, their topics in the same query
        cold = story_cards([second, first], now=BASE_TIME)
    assert "Second headline" in cold[0] and "First headline" in cold[1]
    assert ">AI</a>" in cold[1]
    assert ">AI</a>" not in cold[0]
    with django_assert_num_queries(0):
        assert story_cards([second, first], now=BASE_TIME) == cold


def test_a_card_is_cached_under_its_story_update_heading_and_generation():
    story = keys_of(make_story("Keyed"))[0]
    story_cards([story], heading="h2", now=BASE_TIME)
    key = card_key(story, "h2", generation())
    assert key == f"card:{generation()}:{story.pk}:{story.updated_at.timestamp()}:h2"
    assert RELTIME_MARK in cache.get(key)  # stored without the relative time
    assert cache.get(card_key(story, "h3", generation())) is None


def test_each_heading_level_is_its_own_card():
    story = keys_of(make_story("Levels"))[0]
    assert '<h2 class="story-title"' in story_cards([story], heading="h2")[0]
    assert '<h3 class="story-title"' in story_cards([story], heading="h3")[0]


def test_a_new_content_generation_renders_every_card_again(django_assert_num_queries):
    story = keys_of(make_story("Renewed"))[0]
    story_cards([story])
    content_changed.send(sender=None)
    with django_assert_num_queries(1):
        story_cards([story])


def test_the_relative_time_is_put_in_for_each_request():
    story = keys_of(make_story("Timed", published_at=BASE_TIME))[0]
    early = story_cards([story], now=BASE_TIME + hours(3))[0]
    late = story_cards([story], now=BASE_TIME + timedelta(days=2))[0]
    assert '<span class="reltime">3 hours ago</span>' in early
    assert '<span class="reltime">2 days ago</span>' in late
    assert RELTIME_MARK not in early


def test_only_the_first_picture_of_a_list_loads_at_once():
    stories = keys_of(make_story("Pictured 1", image=PICTURE), make_story("Pictured 2", image=PICTURE))
    first, second = story_cards(stories)
    assert "<img" in first and 'loading="lazy"' not in first
    assert 'loading="lazy"' in second
    assert 'loading="lazy"' not in story_cards(stories[1:])[0]  # first of another list: the cached card is shared


def test_a_story_deleted_since_the_list_was_read_gets_an_empty_card():
    kept, gone = keys_of(make_story("Kept"), make_story("Gone"))
    Story.objects.filter(pk=gone.pk).delete()
    cards = story_cards([kept, gone])
    assert "Kept" in cards[0] and cards[1] == ""


def test_day_groups_put_cards_under_their_day_in_the_site_time_zone():
    now = BASE_TIME
    stories = keys_of(
        make_story("Today 1", published_at=now - hours(1)),
        make_story("Today 2", published_at=now - hours(2)),
        make_story("Yesterday", published_at=now - timedelta(days=1)),
        make_story("Older", published_at=now - timedelta(days=5)),
    )
    groups = day_groups(stories, ["c1", "c2", "c3", "c4"], now)
    today = timezone.localdate(now)
    assert [group["label"] for group in groups] == ["Today", "Yesterday", day_label(today - timedelta(days=5), today)]
    assert [group["cards"] for group in groups] == [["c1", "c2"], ["c3"], ["c4"]]
    assert groups[2]["day"] == today - timedelta(days=5)


def test_day_groups_need_a_card_for_every_story():
    story = keys_of(make_story("Alone"))[0]
    with pytest.raises(ValueError):
        day_groups([story], [], BASE_TIME)


def test_a_card_lists_its_topics_by_name_with_their_links():
    story = keys_of(make_story("Tagged", topics=["zebra", "Beta", "alpha"]))[0]
    card = story_cards([story])[0]
    names = re.findall(r'<a href="/topics/([^/"]+)/">([^<]+)</a>', card)
    assert names == [(topic.slug, topic.name) for topic in Story.objects.get(pk=story.pk).topics.all()]
    assert [name for _slug, name in names] == ["Beta", "alpha", "zebra"]  # Topic's ordering: by name, then id
