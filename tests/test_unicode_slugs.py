"""Story addresses keep non-Latin headlines readable (Unicode slugs), percent-encoded wherever an address is written;
the old Latin-only addresses redirect to the new ones."""

import importlib
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from django.apps import apps

from stories.importer.derived import story_slug
from stories.models import Story
from tests.factories import make_story
from tests.views.helpers import page

pytestmark = pytest.mark.django_db

ROKI = "佐々木朗希、メジャー初勝利"
ROKI_SLUG = "佐々木朗希メジャー初勝利"
ROKI_PATH = quote(ROKI_SLUG)  # as a URI: %E4%BD%90...


def test_a_slug_keeps_the_letters_of_every_script():
    assert story_slug(ROKI) == ROKI_SLUG
    assert story_slug("中国和泰国签署免签协定") == "中国和泰国签署免签协定"
    assert story_slug("Café Müller reopens") == "café-müller-reopens"
    assert story_slug("、。") == "story"


def test_a_story_page_answers_at_its_percent_encoded_address(client):
    story = make_story(ROKI)
    url = story.get_absolute_url()
    assert url == f"/story/{story.pk}-{ROKI_PATH}/"
    response = client.get(url)
    assert response.status_code == 200
    canonical = [
        link.get("href") for link in page(response).iter() if link.tag == "link" and "canonical" in link.tokens("rel")
    ]
    assert canonical == [f"http://testserver{url}"]


def test_the_old_latin_only_address_redirects_permanently(client):
    story = make_story(ROKI)
    response = client.get(f"/story/{story.pk}-story/?order=time")
    assert response.status_code == 301
    assert response["Location"] == f"/story/{story.pk}-{ROKI_PATH}/?order=time"
    assert client.get(response["Location"]).status_code == 200


def test_lists_sitemaps_and_feeds_write_the_address_percent_encoded(client):
    story = make_story(ROKI)
    url = story.get_absolute_url()
    hrefs = {link.get("href") for link in page(client.get("/")).iter() if link.tag == "a"}
    assert url in hrefs
    sitemap = client.get("/sitemap-stories.xml")
    assert sitemap.status_code == 200
    locations = [
        loc.text for loc in ET.fromstring(sitemap.content).iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    ]
    assert f"http://testserver{url}" in locations
    rss = ET.fromstring(client.get("/feeds/latest.rss").content)
    assert [item.findtext("link") for item in rss.iter("item")] == [f"http://testserver{url}"]
    atom = client.get("/feeds/latest.atom").content.decode()
    assert f'href="http://testserver{url}"' in atom and ROKI_SLUG not in atom  # the title has a "、" the slug drops


def test_the_query_guard_lets_a_unicode_address_and_search_through(client):
    story = make_story(ROKI)
    assert client.get(story.get_absolute_url(), {"order": "time"}).status_code == 200
    assert client.get("/search/", {"q": "佐々木"}).status_code == 200


def test_the_migration_recomputes_stored_slugs_and_back():
    migration = importlib.import_module("stories.migrations.0008_unicode_slugs")
    story = make_story(ROKI, slug="story")
    latin = make_story("Plain headline")

    class Editor:
        class connection:  # noqa: N801
            alias = "default"

    migration.recompute(allow_unicode=True)(apps, Editor)
    assert Story.objects.get(pk=story.pk).slug == ROKI_SLUG
    assert Story.objects.get(pk=latin.pk).slug == "plain-headline"
    migration.recompute(allow_unicode=False)(apps, Editor)
    assert Story.objects.get(pk=story.pk).slug == "story"
