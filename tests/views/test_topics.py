"""The topic index and a topic's page."""

import pytest

from tests.factories import make_story
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
