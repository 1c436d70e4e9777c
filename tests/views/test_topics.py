"""The topic index and a topic's page."""

from datetime import timedelta

import pytest

from stories.signals import content_changed
from tests.factories import BASE_TIME, make_story
from tests.views.helpers import in_order, page, text

pytestmark = pytest.mark.django_db


def test_topic_index_shows_counts_of_published_stories(client):
    make_story("One", topics=["AI", "Robots"])
    make_story("Two", topics=["AI"])
    make_story("Hidden", topics=["Robots", "Secrets"], published=False)
    shown = text(client.get("/topics/"))
    assert "AI 2 stories" in shown and "Robots 1 story" in shown
    assert "Secrets" not in shown
    assert in_order(shown, "AI 2 stories", "Robots 1 story")


def test_topic_page_lists_its_stories_with_feeds(client):
    make_story("On topic", topics=["AI"])
    make_story("Off topic", topics=["Robots"])
    response = client.get("/topics/ai/")
    topic = page(response)
    assert "On topic" in topic.text and "Off topic" not in topic.text
    assert [heading.text for heading in topic.find_all("h1")] == ["AI"]
    assert topic.find("link", rel="alternate", type="application/rss+xml", href="http://testserver/feeds/topics/ai.rss")
    assert topic.find(
        "link", rel="alternate", type="application/atom+xml", href="http://testserver/feeds/topics/ai.atom"
    )
    assert not topic.find_all(name="topic")  # the topic page has no topic filter
    assert client.get("/topics/nothing/").status_code == 404


def test_topic_page_has_a_weekly_chart_of_the_year_to_its_latest_story(client):
    make_story("Latest", topics=["AI"], published_at=BASE_TIME)
    make_story("Same week", topics=["AI"], published_at=BASE_TIME - timedelta(days=2))
    make_story("Weeks before", topics=["AI"], published_at=BASE_TIME - timedelta(weeks=10))
    make_story("Too old", topics=["AI"], published_at=BASE_TIME - timedelta(days=400))
    make_story("Later draft", topics=["AI"], published_at=BASE_TIME + timedelta(days=30), published=False)
    make_story("Later, other topic", topics=["Robots"], published_at=BASE_TIME + timedelta(days=30))
    shown = page(client.get("/topics/ai/"))
    chart = shown.find("figure", class_="weekly-chart")
    assert chart.find("figcaption").text == "Stories per week, the year to the week of 29 Apr 2024"
    svg = chart.find("svg", role="img")
    assert (svg.get("aria-labelledby"), svg.get("aria-describedby")) == ("weekly-chart-title", "weekly-chart-desc")
    assert svg.find("title", id="weekly-chart-title").text.startswith("Stories per week, the 52 weeks to")
    assert svg.find("desc").text == "3 stories in all; the busiest week was that of 29 Apr 2024, with 2."
    assert [bar.find("title").text for bar in svg.find_all("rect")] == [
        "Week of 19 Feb 2024: 1 story",
        "Week of 29 Apr 2024: 2 stories",
    ]
    assert not shown.find_all(style=True)  # the CSP allows no inline style: colours come from classes


def test_topic_page_counts_are_cached_until_the_content_changes(client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # the whole-page cache aside: the counts' own cache is under test
    make_story("One", topics=["AI"])
    assert "1 story in all" in page(client.get("/topics/ai/")).find("desc").text
    make_story("Two", topics=["AI"])
    assert "1 story in all" in page(client.get("/topics/ai/")).find("desc").text  # cached, until...
    content_changed.send(sender=None)  # ...an import or a publish says the content changed
    assert "2 stories in all" in page(client.get("/topics/ai/")).find("desc").text
