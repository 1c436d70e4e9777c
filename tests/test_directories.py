"""stories.directories: the topic and outlet directories and an outlet's aggregates, cached per content generation."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache

from stories.caching import generation
from stories.directories import (
    BESIDE_SIZE,
    DIRECTORY_SECONDS,
    appears_beside,
    find_provider,
    find_topic,
    most_stories_first,
    outlet_summary,
    provider_directory,
    topic_directory,
    topic_with_stories,
)
from stories.signals import content_changed
from tests.factories import BASE_TIME, hours, make_provider, make_story, make_topic

pytestmark = pytest.mark.django_db


# --- the directories -----------------------------------------------------------------------------


def test_the_topic_directory_holds_topics_with_published_stories_by_name():
    make_story(topics=["Zebra", "ai"])
    make_story(topics=["ai"])
    make_story(topics=["Drafts only"], published=False)
    make_topic("Empty")
    topics = topic_directory()
    assert [(topic["name"], topic["story_count"]) for topic in topics] == [("Zebra", 1), ("ai", 2)]
    assert set(topics[0]) == {"id", "slug", "name", "story_count"}


def test_the_outlet_directory_holds_outlets_with_published_stories_by_name():
    leader = make_provider("lead.example.com", "Leader")
    covering = make_provider("cover.example.com", "Coverer")
    make_story(provider=leader, coverage=[{"provider": covering}])
    make_story(provider=make_provider("hidden.example.com", "Hidden"), published=False)
    make_provider("idle.example.com", "Idle")
    providers = provider_directory()
    assert [(p["name"], p["led_count"], p["covered_count"]) for p in providers] == [
        ("Coverer", 0, 1),
        ("Leader", 1, 0),
    ]
    assert set(providers[0]) == {"id", "slug", "name", "led_count", "covered_count"}


def test_the_directories_are_read_once_per_content_generation(django_assert_num_queries):
    make_story(topics=["AI"])
    topic_directory(), provider_directory()
    assert cache.get(f"directory:topics:{generation()}") is not None
    assert cache.get(f"directory:providers:{generation()}") is not None
    with django_assert_num_queries(0):
        topic_directory(), provider_directory()
    content_changed.send(sender=None)
    with django_assert_num_queries(1):  # one query reads both
        topic_directory(), provider_directory()


def test_a_process_keeps_its_copy_of_the_directories_until_the_generation_changes():
    make_story(topics=["AI"])
    first = topic_directory()
    assert topic_directory() is first  # not unpickled from the shared cache again
    make_story(topics=["Robots"])
    assert [topic["name"] for topic in topic_directory()] == ["AI"]  # as the shared cache would say...
    content_changed.send(sender=None)  # ...until an import or a publish (in any process) says the content changed
    assert [topic["name"] for topic in topic_directory()] == ["AI", "Robots"]


def test_a_process_copy_lasts_no_longer_than_the_shared_entry(monkeypatch):
    make_story(topics=["AI"])
    topic_directory()
    make_story(topics=["Robots"])
    clock = time.monotonic() + DIRECTORY_SECONDS + 1
    monkeypatch.setattr("stories.directories.time.monotonic", lambda: clock)
    cache.clear()  # the shared entry has expired too
    assert [topic["name"] for topic in topic_directory()] == ["AI", "Robots"]


def test_find_by_slug_in_the_directories():
    story = make_story(topics=["Machine learning"])
    assert find_topic("machine-learning")["name"] == "Machine learning"
    assert find_topic("nothing") is None
    slug = story.lead.provider.slug
    assert find_provider(slug)["id"] == story.lead.provider_id
    assert find_provider("nothing") is None


def test_a_topic_page_finds_a_topic_newer_than_the_cached_directory(django_assert_num_queries):
    make_story(topics=["AI"])
    with django_assert_num_queries(1):
        assert topic_with_stories("ai")["story_count"] == 1
    with django_assert_num_queries(0):  # in the cached directory
        topic_with_stories("ai")
    robots = make_topic("Robots")
    make_story(topics=[robots])  # no content change sent: the directory is stale
    assert find_topic("robots") is None
    with django_assert_num_queries(1):
        found = topic_with_stories("robots")
    assert found == {"id": robots.pk, "slug": "robots", "name": "Robots", "story_count": 1}
    make_topic("Empty")
    assert topic_with_stories("empty") is None
    assert topic_with_stories("nothing") is None


def test_the_topic_index_shows_most_stories_first_then_by_name():
    topics = [
        {"name": "beta", "story_count": 2},
        {"name": "Alpha", "story_count": 2},
        {"name": "Gamma", "story_count": 5},
        {"name": "Delta", "story_count": 1},
    ]
    assert [topic["name"] for topic in most_stories_first(topics)] == ["Gamma", "Alpha", "beta", "Delta"]


# --- an outlet's aggregates ----------------------------------------------------------------------


@pytest.fixture
def outlets():
    home = make_provider("home.example.com", "Home")
    often = make_provider("often.example.com", "often")  # lower case: names sort without regard to case
    once = make_provider("once.example.com", "Once")
    hidden = make_provider("hidden.example.com", "Hidden")
    make_story("Home leads", provider=home, coverage=[{"provider": often}, {"provider": once}])
    make_story("Often leads", provider=often, coverage=[{"provider": home}], published_at=BASE_TIME - hours(1))
    make_story("Draft", provider=home, coverage=[{"provider": hidden}], published=False)
    make_story("Elsewhere", provider=once, coverage=[{"provider": often}])
    return {"home": home, "often": often, "once": once, "hidden": hidden}


def test_appears_beside_counts_shared_published_stories_in_one_query(outlets, django_assert_num_queries):
    with django_assert_num_queries(1):
        provider, beside = appears_beside("home-example-com")
    assert provider["name"] == "Home" and provider["led_count"] == 1 and provider["covered_count"] == 1
    assert set(provider) == {"id", "name", "slug", "domain", "led_count", "covered_count"}
    assert [(outlet["name"], shared) for outlet, shared in beside] == [("often", 2), ("Once", 1)]


def test_appears_beside_an_unknown_outlet_is_nothing():
    assert appears_beside("nothing") == (None, [])


def test_appears_beside_keeps_the_outlets_most_often_beside_it(outlets):
    home = outlets["home"]
    for n in range(BESIDE_SIZE + 2):
        make_story(provider=home, coverage=[{"provider": make_provider(f"o{n}.example.com", f"Other {n}")}])
    _provider, beside = appears_beside("home-example-com")
    assert len(beside) == BESIDE_SIZE
    assert beside[0][0]["name"] == "often"


def test_an_outlet_summary_is_cached_under_the_content_generation(outlets, django_assert_num_queries):
    with django_assert_num_queries(2):
        summary = outlet_summary("home-example-com")
    assert summary["provider"]["name"] == "Home"
    assert [(outlet["name"], shared) for outlet, shared in summary["beside"]] == [("often", 2), ("Once", 1)]
    assert summary["days"] == {BASE_TIME.date(): 2}  # the two published stories it led or covered, by day
    assert cache.get(f"outlet:{generation()}:home-example-com") == summary
    with django_assert_num_queries(0):
        outlet_summary("home-example-com")
    content_changed.send(sender=None)
    with django_assert_num_queries(2):
        outlet_summary("home-example-com")


def test_an_outlet_summary_counts_its_stories_by_day_over_the_year_to_its_latest(outlets):
    home = outlets["home"]
    latest = BASE_TIME + timedelta(days=30)
    make_story("Covered later", coverage=[{"provider": home}], published_at=latest)
    make_story("Two years before", provider=home, published_at=latest - timedelta(days=730))
    make_story("A later draft", provider=home, published_at=latest + timedelta(days=1), published=False)
    days = outlet_summary("home-example-com")["days"]
    assert days == {BASE_TIME.date(): 2, latest.date(): 1}


def test_an_outlet_with_only_drafts_lately_still_has_a_summary():
    outlet = make_provider("quiet.example.com", "Quiet")
    make_story("Old and published", provider=outlet, published_at=BASE_TIME - timedelta(days=30))
    for n in range(3):
        make_story(f"Draft {n}", provider=outlet, published=False)
    summary = outlet_summary("quiet-example-com")
    assert summary["provider"]["name"] == "Quiet" and summary["beside"] == []


def test_no_summary_and_nothing_cached_for_an_unknown_or_unpublished_outlet(outlets):
    assert outlet_summary("nothing") is None
    assert outlet_summary("hidden-example-com") is None
    assert cache.get(f"outlet:{generation()}:nothing") is None
    assert cache.get(f"outlet:{generation()}:hidden-example-com") is None
