"""RSS and Atom feeds: they parse as XML, hold the right published items, and escape what they carry."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stories.directories import forget_process_copies
from stories.feeds import FEED_SIZE
from stories.models import Story
from tests.factories import BASE_TIME, hours, make_provider, make_story, write_document

pytestmark = pytest.mark.django_db

ATOM = {"a": "http://www.w3.org/2005/Atom"}


def rss(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss"
    return root.find("channel")


def atom(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    return root


def rss_titles(channel):
    return [item.findtext("title") for item in channel.findall("item")]


def atom_titles(feed):
    return [entry.findtext("a:title", namespaces=ATOM) for entry in feed.findall("a:entry", ATOM)]


@pytest.fixture
def stories():
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    tc = make_provider("techcrunch.com", "TechCrunch")
    newest = make_story(
        "Newest story",
        provider=globe,
        topics=["AI", "Computer Vision"],
        coverage=[{"provider": tc}, {}],
        lead={"excerpt": "What happened."},
        published_at=BASE_TIME,
    )
    make_story("Older story", provider=tc, topics=["Robots"], published_at=BASE_TIME - hours(2))
    make_story("Secret draft", provider=globe, topics=["AI"], published=False, secured="secured-value-never-shown")
    return newest


def test_latest_rss_holds_published_stories_newest_first(client, stories):
    channel = rss(client, "/feeds/latest.rss")
    assert rss_titles(channel) == ["Newest story", "Older story"]
    item = channel.find("item")
    assert item.findtext("link") == f"http://testserver{stories.get_absolute_url()}"
    assert item.findtext("guid") == f"http://testserver/story/{stories.pk}/"  # the key, not the slug
    assert item.findtext("pubDate") == "Wed, 01 May 2024 12:00:00 +0000"
    description = item.findtext("description")
    assert '<p dir="auto">What happened.</p>' in description and "Reported by 3 outlets." in description
    assert sorted(category.text for category in item.findall("category")) == ["AI", "Computer Vision"]
    assert channel.findtext("link") == "http://testserver/"


def test_latest_atom(client, stories):
    feed = atom(client, "/feeds/latest.atom")
    assert atom_titles(feed) == ["Newest story", "Older story"]
    entry = feed.find("a:entry", ATOM)
    assert entry.find("a:link", ATOM).get("href") == f"http://testserver{stories.get_absolute_url()}"
    assert entry.findtext("a:published", namespaces=ATOM).startswith("2024-05-01T12:00:00")
    assert entry.findtext("a:author/a:name", namespaces=ATOM) == "The Boston Globe"
    assert feed.findtext("a:subtitle", namespaces=ATOM)


def test_feeds_hold_at_most_fifty_stories(client):
    for n in range(FEED_SIZE + 3):
        make_story(f"Story {n:03d}", published_at=BASE_TIME - timedelta(minutes=n))
    titles = rss_titles(rss(client, "/feeds/latest.rss"))
    assert len(titles) == FEED_SIZE and titles[0] == "Story 000" and titles[-1] == f"Story {FEED_SIZE - 1:03d}"


def test_topic_feeds(client, stories):
    assert rss_titles(rss(client, "/feeds/topics/ai.rss")) == ["Newest story"]
    assert atom_titles(atom(client, "/feeds/topics/robots.atom")) == ["Older story"]
    assert client.get("/feeds/topics/nothing.rss").status_code == 404


def test_provider_feeds_hold_stories_the_outlet_led_or_covered(client, stories):
    assert rss_titles(rss(client, "/feeds/providers/techcrunch-com.rss")) == ["Newest story", "Older story"]
    assert atom_titles(atom(client, "/feeds/providers/bostonglobe-com.atom")) == ["Newest story"]
    assert client.get("/feeds/providers/nobody.rss").status_code == 404


def test_search_feeds_take_the_list_pages_parameters(client, stories):
    assert rss_titles(rss(client, "/feeds/search.rss?q=older")) == ["Older story"]
    assert rss_titles(rss(client, "/feeds/search.rss?topic=ai")) == ["Newest story"]
    assert rss_titles(rss(client, "/feeds/search.rss?q=story&mute=bostonglobe-com")) == ["Older story"]
    assert atom_titles(atom(client, "/feeds/search.atom?q=secret")) == []
    channel = rss(client, "/feeds/search.rss?q=story&topic=robots")
    assert "“story”" in channel.findtext("title") and "Topic: Robots" in channel.findtext("title")
    assert channel.findtext("link") == "http://testserver/search/?q=story&topic=robots"
    assert client.get("/feeds/search.rss?topic=nothing").status_code == 404
    assert client.get("/feeds/search.rss?min_quality=abc").status_code == 404


def test_list_pages_link_their_feeds(client, stories):
    page = client.get("/topics/ai/").content.decode()
    assert 'rel="alternate" type="application/rss+xml" title="Stories on AI (RSS)"' in page
    page = client.get("/search/?q=story").content.decode()
    assert 'href="http://testserver/feeds/search.atom?q=story"' in page
    page = client.get("/providers/techcrunch-com/").content.decode()
    assert 'href="http://testserver/feeds/providers/techcrunch-com.rss"' in page


def test_drafts_and_secured_values_never_reach_a_feed(client, stories):
    for url in [
        "/feeds/latest.rss",
        "/feeds/latest.atom",
        "/feeds/topics/ai.rss",
        "/feeds/providers/bostonglobe-com.atom",
        "/feeds/search.rss?q=secret",
    ]:
        body = client.get(url).content.decode()
        assert "Secret draft" not in body and "secured-value-never-shown" not in body, url


def test_markup_in_a_story_is_text_in_feeds(client):
    make_story(
        "<script>alert('title')</script> Hostile",
        lead={"excerpt": "An excerpt with <img src=x onerror=alert(1)>"},
    )
    channel = rss(client, "/feeds/latest.rss")
    item = channel.find("item")
    # Titles are text (the XML writer escapes them once); descriptions are HTML, the markup escaped in it.
    assert item.findtext("title") == "<script>alert('title')</script> Hostile"
    assert "&lt;img src=x onerror=alert(1)&gt;" in item.findtext("description")
    assert "<img" not in item.findtext("description")
    feed = atom(client, "/feeds/latest.atom")
    assert atom_titles(feed) == ["<script>alert('title')</script> Hostile"]  # Atom titles are plain text
    summary = feed.find("a:entry/a:summary", ATOM)
    assert summary.get("type") == "html" and "<img" not in summary.text


@pytest.mark.parametrize("url", ["/feeds/latest.rss", "/feeds/topics/ai.atom", "/feeds/search.rss?q=story&topic=ai"])
def test_feeds_cost_a_fixed_number_of_queries(client, url):
    def count():
        cache.clear()
        forget_process_copies()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    make_story("Story one", topics=["AI"], coverage=[{}])
    one = count()
    for n in range(30):
        make_story(f"Story {n}", topics=["AI", f"T{n % 3}"], coverage=[{}, {}])
    assert count() == one <= 4


def parse(client, url, params=None):
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_titles_arrive_as_plain_text_the_same_in_rss_and_atom(client):
    outlet = make_provider("9and10news.com", "9&10 News")
    title = 'Diablo 4\'s Pokémon-style Raid Battles Are "Great" & <Fun>'
    make_story(title, provider=outlet, topics=["Games & Play"])
    for kind in ("rss", "atom"):
        latest = parse(client, f"/feeds/latest.{kind}")
        assert [entry.title for entry in latest.entries] == [title], kind
        outlet_feed = parse(client, f"/feeds/providers/9and10news-com.{kind}")
        assert outlet_feed.feed.title == "Newsreader: 9&10 News", kind
        assert [entry.title for entry in outlet_feed.entries] == [title], kind
        topic_feed = parse(client, f"/feeds/topics/games-play.{kind}")
        assert topic_feed.feed.title == "Newsreader: Games & Play", kind
        search = parse(client, f"/feeds/search.{kind}?q=diablo&provider=9and10news-com")
        assert search.feed.title == "Newsreader: “diablo”, Outlet: 9&10 News", kind


def test_entry_ids_stay_when_a_new_version_of_the_document_changes_the_headline(client, tmp_path):
    document = write_document(tmp_path / "story.md", "Don't expect Overwatch 2 or Diablo 4 to launch in 2021")
    call_command("import_stories", str(tmp_path), verbosity=0)
    story = Story.objects.get()
    before = {kind: parse(client, f"/feeds/latest.{kind}").entries[0] for kind in ("rss", "atom")}
    assert before["rss"].id == before["atom"].id == f"http://testserver/story/{story.pk}/"
    assert client.get(f"/story/{story.pk}/").status_code == 301  # the id answers: it leads to the story

    write_document(document, "Overwatch 2 and Diablo 4 will not launch in 2021, Activision says")
    call_command("import_stories", str(tmp_path), verbosity=0)
    cache.clear()
    for kind, old in before.items():
        new = parse(client, f"/feeds/latest.{kind}").entries[0]
        assert new.title.startswith("Overwatch 2 and Diablo 4"), kind
        assert new.id == old.id, kind  # the same item to every feed reader
        assert new.link != old.link and new.link.endswith(
            "-overwatch-2-and-diablo-4-will-not-launch-in-2021-activision-says/"
        )


def test_items_name_their_language(client):
    make_story(
        "佐々木朗希が完全試合", lead={"language": "ja", "excerpt": "ロッテの佐々木朗希投手が完全試合を達成した。"}
    )
    make_story("An English headline", lead={"language": "en"}, published_at=BASE_TIME - hours(1))
    make_story("Unsure", published_at=BASE_TIME - hours(2))  # language unknown: nothing said
    feed = atom(client, "/feeds/latest.atom")
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert [entry.get(lang) for entry in feed.findall("a:entry", ATOM)] == ["ja", "en", None]
    summary = feed.find("a:entry/a:summary", ATOM).text
    assert summary.startswith('<p lang="ja" dir="auto">ロッテの') and '<p lang="en">Reported by' in summary
    channel = rss(client, "/feeds/latest.rss")
    dc = "{http://purl.org/dc/elements/1.1/}language"
    assert [item.findtext(dc) for item in channel.findall("item")] == ["ja", "en", None]
    assert parse(client, "/feeds/latest.atom").entries[0].title == "佐々木朗希が完全試合"


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\ufffe"])
def test_search_feeds_refuse_words_xml_cannot_carry(client, stories, character):
    for kind in ("rss", "atom"):
        response = client.get(f"/feeds/search.{kind}", {"q": f"newest{character}"})
        assert response.status_code == 400, response.status_code  # refused before the feed (query_guard.py)
        assert "The search words hold" in response.content.decode()
