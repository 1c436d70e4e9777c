"""What robots read: the sitemaps (published stories, topics and outlets only), robots.txt, the favicon."""

import xml.etree.ElementTree as ET

import pytest

from tests.factories import make_story
from tests.views.helpers import make_many

pytestmark = pytest.mark.django_db

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_locations(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert b"news:" not in response.content  # plain sitemaps, not Google News ones
    return [loc.text for loc in ET.fromstring(response.content).iter(f"{{{SITEMAP_NS['s']}}}loc")]


def test_sitemap_index_and_sections_list_published_stories_topics_and_outlets(client, draft):
    story = make_story("Published story", topics=["AI"])
    index = sitemap_locations(client, "/sitemap.xml")
    assert index == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-stories.xml",
        "http://testserver/sitemap-topics.xml",
        "http://testserver/sitemap-providers.xml",
    ]
    locations = [
        loc for section in index for loc in sitemap_locations(client, section.removeprefix("http://testserver"))
    ]
    assert f"http://testserver{story.get_absolute_url()}" in locations
    assert "http://testserver/topics/ai/" in locations
    assert f"http://testserver/providers/{story.lead.provider.slug}/" in locations
    assert "http://testserver/" in locations and "http://testserver/topics/" in locations
    assert not any(f"/story/{draft.pk}-" in location for location in locations)
    assert client.get("/sitemap-nothing.xml").status_code == 404
    assert client.get("/sitemap-stories.xml?p=2").status_code == 404


def test_story_sitemaps_are_paged_in_the_index(client, settings, monkeypatch):
    monkeypatch.setattr("stories.sitemaps.StorySitemap.limit", 2)
    settings.SITE_URL = "https://news.example.com"
    make_many(5)
    index = sitemap_locations(client, "/sitemap.xml")
    assert [loc for loc in index if "stories" in loc] == [
        "https://news.example.com/sitemap-stories.xml",
        "https://news.example.com/sitemap-stories.xml?p=2",
        "https://news.example.com/sitemap-stories.xml?p=3",
    ]
    third = sitemap_locations(client, "/sitemap-stories.xml?p=3")
    assert len(third) == 1 and third[0].startswith("https://news.example.com/story/")


def test_robots_txt_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()


def test_favicon_ico_redirects_to_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert "favicon" in response["Location"] and response["Location"].endswith(".svg")
