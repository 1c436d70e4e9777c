"""stories.seo: canonical URLs, feed links, descriptions, the story image and the story page's JSON-LD."""

import pytest

from stories.coverage import coverage_rows
from stories.models import Story
from stories.seo import (
    EXCERPT_WORDS,
    canonical_url,
    feed_links,
    filter_query,
    meta_description,
    publisher,
    story_image,
    story_jsonld,
)
from tests.factories import BASE_TIME, hours, make_provider, make_story

SITE = "https://news.example"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE
    settings.SITE_NAME = "Newsreader"


# --- list pages --------------------------------------------------------------------------------


def test_canonical_url_keeps_the_content_parameters_in_a_fixed_order(rf):
    request = rf.get("/", {"utm_source": "x", "topic": "ai", "q": "robots", "after": "abc", "since": "", "order": "t"})
    assert canonical_url(request) == f"{SITE}/?q=robots&topic=ai&after=abc"


def test_canonical_url_of_a_page_without_parameters_or_with_its_own(rf):
    assert canonical_url(rf.get("/topics/", {"q": "x"}), keep=()) == f"{SITE}/topics/"
    request = rf.get("/providers/", {"after": "c1", "topic": "ai"})
    assert canonical_url(request, keep=("after", "before")) == f"{SITE}/providers/?after=c1"
    assert canonical_url(rf.get("/story/1/"), path="/story/1-slug/") == f"{SITE}/story/1-slug/"


def test_canonical_url_on_the_request_host_without_a_site_url(rf, settings):
    settings.SITE_URL = ""
    assert canonical_url(rf.get("/", {"q": "a b"})) == "http://testserver/?q=a+b"


def test_feed_links_name_both_formats(rf):
    links = feed_links(rf.get("/"), "Stories on AI", "topic_rss", "topic_atom", kwargs={"slug": "ai"})
    assert links == [
        {"title": "Stories on AI (RSS)", "type": "application/rss+xml", "url": f"{SITE}/feeds/topics/ai.rss"},
        {"title": "Stories on AI (Atom)", "type": "application/atom+xml", "url": f"{SITE}/feeds/topics/ai.atom"},
    ]


def test_feed_links_of_a_saved_search_carry_its_query(rf):
    rss, atom = feed_links(rf.get("/"), "Matches", "search_rss", "search_atom", query="?q=robots")
    assert rss["url"] == f"{SITE}/feeds/search.rss?q=robots"
    assert atom["url"] == f"{SITE}/feeds/search.atom?q=robots"


def test_filter_query_holds_the_search_and_filters_only(rf):
    request = rf.get("/", {"after": "c", "sort": "top", "min_quality": "3", "q": "chips", "topic": "", "x": "1"})
    assert filter_query(request) == "?q=chips&min_quality=3"
    assert filter_query(rf.get("/", {"after": "c", "sort": "top"})) == ""


# --- descriptions and images -------------------------------------------------------------------


def test_meta_description_keeps_the_first_words():
    assert meta_description("  one\ntwo   three ") == "one two three"
    long = " ".join(f"w{n}" for n in range(EXCERPT_WORDS + 5))
    assert meta_description(long) == " ".join(f"w{n}" for n in range(EXCERPT_WORDS)) + "…"
    assert meta_description("a b c", words=2) == "a b…"
    assert meta_description(None) == meta_description("") == ""


class Pictured:
    def __init__(self, image):
        self.image = image


def test_a_story_image_needs_an_http_url():
    picture = {"url": "https://img.example.com/a.jpg", "width": 10}
    assert story_image(Pictured(picture)) is picture
    for image in (None, {}, {"url": "javascript:alert(1)"}, {"url": "/relative.jpg"}, {"url": 3}):
        assert story_image(Pictured(image)) is None, image


# --- JSON-LD ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_story_jsonld_lists_the_lead_and_each_outlets_best_article(rf):
    lead_outlet = make_provider("lead.example.com", "Lead Outlet")
    other = make_provider("other.example.com", "Other")
    story = make_story(
        "Headline <b>",
        provider=lead_outlet,
        lead={"excerpt": "Word " * 70, "language": "fr"},
        image={"url": "https://img.example.com/a.jpg"},
        coverage=[
            {"title": "Best", "provider": other, "quality": 9, "published_at": BASE_TIME + hours(1)},
            {"title": "Worse", "provider": other, "quality": 1},
            {"title": "Unsafe link", "web_url": "javascript:alert(1)"},
        ],
    )
    story = Story.objects.for_story_page().get(pk=story.pk)
    data = story_jsonld(rf.get("/"), story, f"{SITE}/story/{story.pk}-x/", coverage_rows(story, "quality"))
    assert data["@type"] == "CollectionPage" and data["name"] == "Headline <b>"
    assert data["url"] == f"{SITE}/story/{story.pk}-x/"
    assert data["description"] == meta_description(story.lead.excerpt) and data["description"].endswith("…")
    assert data["isPartOf"] == {"@type": "WebSite", "name": "Newsreader", "url": f"{SITE}/"}
    assert data["image"] == "https://img.example.com/a.jpg"
    items = [element["item"] for element in data["mainEntity"]["itemListElement"]]
    assert data["mainEntity"]["numberOfItems"] == len(items) == 2  # the unsafe link is left out
    assert [element["position"] for element in data["mainEntity"]["itemListElement"]] == [1, 2]
    assert [item["headline"] for item in items] == ["Headline <b>", "Best"]
    assert items[0]["inLanguage"] == "fr" and "inLanguage" not in items[1]
    assert items[0]["publisher"] == publisher(story.lead)
    assert items[0]["publisher"] == {"@type": "Organization", "name": "Lead Outlet", "url": "https://lead.example.com/"}
    assert items[1]["datePublished"] == (BASE_TIME + hours(1)).isoformat()


@pytest.mark.django_db
def test_story_jsonld_without_a_usable_image_has_none(rf):
    story = make_story("No picture", image={"url": "ftp://img.example.com/a.jpg"})
    story = Story.objects.for_story_page().get(pk=story.pk)
    assert "image" not in story_jsonld(rf.get("/"), story, f"{SITE}/s/", [])
