"""A story's page: its headline and links out, its coverage by quality or by time, related stories."""

import json
import re
from datetime import timedelta

import pytest

from stories.templatetags.reader import lead_lag
from tests.factories import BASE_TIME, hours, make_story
from tests.views.helpers import in_order, page, text

pytestmark = pytest.mark.django_db


def test_story_page_shows_the_headline_and_links_out(client, covered_story):
    story = page(client.get(covered_story.get_absolute_url()))
    assert [heading.text for heading in story.find_all("h1")] == ["The headline"]
    full = story.find("a", text=re.compile(r"^Read the full article at The Boston Globe\b"))
    assert full.get("href") == "https://bostonglobe.com/news/headline"
    assert full.tokens("rel") == {"external", "noopener"} and {"button", "external"} <= full.tokens("class")
    lite = story.find("a", text=re.compile(r"^Lite version \(AMP\)"))
    assert lite.get("href") == "https://bostonglobe.com/amp/1" and lite.tokens("rel") == {"external", "noopener"}
    assert story.find("a", text="AI").get("href") == "/topics/ai/"
    assert story.find("title").text == "The headline · Newsreader"
    assert story.find("meta", property="og:type").get("content") == "website"
    outward = story.find_all("a", href=re.compile(r"^https?://"))
    assert outward
    for link in outward:
        assert link.tokens("rel") == {"external", "noopener"}, link


def test_coverage_by_quality_folds_repeats_of_an_outlet(client, covered_story):
    shown = text(client.get(covered_story.get_absolute_url()))
    assert in_order(shown, "Many: best", "Late coverage", "Early coverage")
    assert "+2 more from this outlet" in shown
    assert in_order(shown, "+2 more from this outlet", "Many: weaker", "Many: weakest")
    assert "Reported by 5 outlets" in shown
    assert "Quality 90" in shown


def test_coverage_timeline_orders_by_time_with_leads_and_lags(client, covered_story):
    shown = text(client.get(covered_story.get_absolute_url() + "?order=time"))
    assert in_order(
        shown,
        "First to report: Early Bird",
        "Early coverage",
        "Headline article",
        "Same time coverage",
        "Late by minutes",
        "Late coverage",
        "Many: best",
    )
    assert "4 h earlier" in shown
    assert "same time" in shown
    assert "25 min later" in shown
    assert "2 h later" in shown
    assert "3 days later" in shown
    assert "1 h earlier" in shown  # a folded item keeps its own lag
    assert "(4 h earlier than the headline article)" in shown


def test_coverage_order_toggle_marks_the_current_order(client, covered_story):
    by_quality = page(client.get(covered_story.get_absolute_url()))
    assert by_quality.find("a", text="By quality").get("aria-current") == "true"
    assert "aria-current" not in by_quality.find("a", text=re.compile(r"^By time")).attrs
    by_time = page(client.get(covered_story.get_absolute_url() + "?order=time"))
    toggle = by_time.find("a", text=re.compile(r"^By time"))
    assert toggle.get("href") == "?order=time" and toggle.get("aria-current") == "true"
    assert "aria-current" not in by_time.find("a", text="By quality").attrs


def test_wrong_slug_redirects_permanently_to_the_canonical_url(client, covered_story):
    url = covered_story.get_absolute_url()
    response = client.get(f"/story/{covered_story.pk}-an-old-title/?order=time")
    assert response.status_code == 301 and response["Location"] == f"{url}?order=time"
    response = client.get(f"/story/{covered_story.pk}/")
    assert response.status_code == 301 and response["Location"] == url
    assert client.get("/story/999999-nothing/").status_code == 404


def test_story_page_jsonld_is_a_collection_of_each_outlets_article(client, covered_story):
    story = page(client.get(covered_story.get_absolute_url()))
    data = json.loads(story.find("script", type="application/ld+json").source)
    assert data["@type"] == "CollectionPage"
    assert data["url"] == f"http://testserver{covered_story.get_absolute_url()}"
    assert "publisher" not in data and "author" not in data
    items = data["mainEntity"]["itemListElement"]
    assert data["mainEntity"]["@type"] == "ItemList" and len(items) == 6  # the headline and one per outlet
    first = items[0]["item"]
    assert first["@type"] == "NewsArticle" and first["url"] == "https://bostonglobe.com/news/headline"
    assert first["publisher"] == {
        "@type": "Organization",
        "name": "The Boston Globe",
        "url": "https://bostonglobe.com/",
    }
    assert first["datePublished"] == "2024-05-01T12:00:00+00:00"
    assert [item["position"] for item in items] == list(range(1, 7))
    assert {item["item"]["publisher"]["name"] for item in items} >= {"Early Bird", "Many Items", "Late Riser"}


def test_related_stories_share_a_topic_and_are_published(client):
    story = make_story("Main story", topics=["AI"])
    make_story("Related one", topics=["AI"], published_at=BASE_TIME - hours(1))
    make_story("Unrelated", topics=["Robots"])
    make_story("Related draft", topics=["AI"], published=False)
    for n in range(6):
        make_story(f"Older related {n}", topics=["AI"], published_at=BASE_TIME - hours(10 + n))
    shown = text(client.get(story.get_absolute_url()))
    assert "More on AI" in shown
    assert "Related one" in shown and "Unrelated" not in shown and "Related draft" not in shown
    assert "Older related 3" in shown and "Older related 4" not in shown  # five at most, newest first


def test_related_stories_come_from_around_the_story_s_time(client):
    story = make_story("The story itself", topics=["Robots"], published_at=BASE_TIME)
    make_story("Same topic, two weeks earlier", topics=["Robots"], published_at=BASE_TIME - timedelta(days=14))
    make_story("Same topic, two years earlier", topics=["Robots"], published_at=BASE_TIME - timedelta(days=730))
    make_story("Other topic, same day", topics=["Finance"], published_at=BASE_TIME)
    shown = text(client.get(story.get_absolute_url()))
    assert "Same topic, two weeks earlier" in shown
    assert "Same topic, two years earlier" not in shown
    assert "Other topic, same day" not in shown


def test_story_without_coverage_says_so(client):
    story = make_story("Lonely story")
    assert "No other outlet has covered this story yet." in text(client.get(story.get_absolute_url()))


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=30), "same time"),
        (timedelta(seconds=-59), "same time"),
        (timedelta(minutes=25), "25 min later"),
        (-timedelta(minutes=59), "59 min earlier"),
        (hours(4), "4 h later"),
        (-hours(4), "4 h earlier"),
        (hours(47), "47 h later"),
        (hours(49), "2 days later"),
        (-timedelta(days=3, hours=5), "3 days earlier"),
    ],
)
def test_lead_lag(delta, expected):
    assert lead_lag(BASE_TIME + delta, BASE_TIME) == expected
