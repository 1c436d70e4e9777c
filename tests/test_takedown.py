"""Coverage takedown (stories.takedown): hide one item from one story, or an article everywhere; restore it.

Called without the admin here (tests/test_admin.py has the editors' pages); the
re-import tests go through the real importer.
"""

import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from stories import takedown
from stories.models import Article, Coverage, CoverageTakedown, Provider, Story
from tests.factories import BASE_TIME, make_provider, make_story
from tests.views.helpers import parse

IMAGE = {"url": "https://pics.example.net/a.jpg", "width": 640, "height": 480, "cached": False}


@pytest.fixture
def story(db):
    """A lead without a picture; coverage by Alpha (with a picture, first) and Beta."""
    lead = make_provider("lead.example.com", "Lead Daily")
    alpha = make_provider("alpha.example.com", "Alpha Wire")
    beta = make_provider("beta.example.com", "Beta Post")
    return make_story(
        "Harbour bridge reopens",
        provider=lead,
        topics=["Cities"],
        coverage=[
            {
                "title": "Zanzibarian ferries idle as bridge reopens",
                "provider": alpha,
                "images": [IMAGE],
                "web_url": "https://alpha.example.com/ferries",
            },
            {"title": "Commuters cheer the bridge", "provider": beta, "published_at": BASE_TIME + timedelta(hours=1)},
        ],
    )


def alpha_item(story):
    return Article.objects.get(web_url="https://alpha.example.com/ferries")


def story_page(client, story):
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def get(client, path, **params):
    response = client.get(path, params)
    assert response.status_code == 200, path
    return response.content.decode()


def jsonld(markup):
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', markup, re.S)
    return json.loads(block)


def test_a_hidden_item_vanishes_from_everything_a_reader_sees(
    client, story, signals, django_capture_on_commit_callbacks
):
    before = story_page(client, story)
    assert "Zanzibarian ferries" in before and "Alpha Wire" in before
    assert "Harbour bridge reopens" in get(client, "/providers/alpha-example-com/covered/")
    assert Story.objects.published().search("zanzibarian").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        done = takedown.hide_coverage(story, alpha_item(story), "  Legal request\nfrom the outlet ")
    assert done.changed and signals == [Story]
    assert CoverageTakedown.objects.get().reason == "Legal request from the outlet"

    story.refresh_from_db()
    assert (story.coverage_count, story.outlet_count) == (1, 2)
    assert story.outlets_preview == [["Beta Post", "beta-example-com"]]
    assert story.image is None, "the hidden item's picture is not the story's any more"
    assert "Zanzibarian" not in story.search_text
    assert Story.objects.published().search("zanzibarian").count() == 0
    assert Provider.objects.get(domain="alpha.example.com").covered_count == 0
    assert Provider.objects.get(domain="beta.example.com").covered_count == 1

    markup = story_page(client, story)
    assert "Zanzibarian" not in markup and "Alpha Wire" not in markup and "alpha.example.com" not in markup
    items = [element["item"]["url"] for element in jsonld(markup)["mainEntity"]["itemListElement"]]
    assert items == [story.lead.web_url, "https://beta.example.com/news/" + items[1].rsplit("/", 1)[1]]
    assert "Commuters cheer the bridge" in markup
    home = client.get("/").content.decode()
    assert "Alpha Wire" not in home and "Beta Post" in home
    # (The outlet covers nothing else: its page may be a 404; either way the story is gone from it.)
    assert "Harbour bridge reopens" not in client.get("/providers/alpha-example-com/covered/").content.decode()
    assert "Harbour bridge reopens" not in client.get("/search/", {"q": "zanzibarian"}).content.decode()
    assert "Harbour bridge reopens" in client.get("/feeds/latest.rss").content.decode()
    assert "Harbour bridge reopens" not in client.get("/feeds/search.rss", {"q": "zanzibarian"}).content.decode()


def test_restoring_brings_the_item_back_and_hiding_twice_changes_nothing(
    client, story, signals, django_capture_on_commit_callbacks
):
    article = alpha_item(story)
    with django_capture_on_commit_callbacks(execute=True):
        takedown.hide_coverage(story, article, "Dead link")
        again = takedown.hide_coverage(story, article, "Another reason")
    assert not again.changed and CoverageTakedown.objects.get().reason == "Dead link"
    assert signals == [Story]

    with django_capture_on_commit_callbacks(execute=True):
        assert takedown.restore_coverage(story, article).changed
    assert signals == [Story, Story]
    assert not takedown.restore_coverage(story, article).changed
    story.refresh_from_db()
    assert (story.coverage_count, story.outlet_count) == (2, 3)
    assert story.image["url"] == IMAGE["url"]
    assert "Zanzibarian" in story.search_text
    assert Provider.objects.get(domain="alpha.example.com").covered_count == 1
    assert "Zanzibarian ferries" in story_page(client, story)


def test_a_reason_is_required_and_only_the_storys_own_items_can_be_hidden(story):
    with pytest.raises(takedown.TakedownRefusedError, match="reason"):
        takedown.hide_coverage(story, alpha_item(story), "   ")
    other = make_story("Another story")
    with pytest.raises(takedown.TakedownRefusedError, match="not in the coverage"):
        takedown.hide_coverage(story, other.lead, "Wrong link")
    assert not CoverageTakedown.objects.exists()


def test_hiding_an_article_everywhere_hides_it_from_every_story(client, story, django_capture_on_commit_callbacks):
    article = alpha_item(story)
    second = make_story("Ferry strike ends", coverage=[article])
    with django_capture_on_commit_callbacks(execute=True):
        done = takedown.hide_article(article, "Court order")
    assert done.changed and {s.pk for s in done.stories} == {story.pk, second.pk}
    article.refresh_from_db()
    assert article.hidden_at is not None and article.hidden_reason == "Court order"
    second.refresh_from_db()
    assert (second.coverage_count, second.outlet_count, second.image) == (0, 1, None)
    assert "Zanzibarian" not in story_page(client, second)
    assert Provider.objects.get(domain="alpha.example.com").covered_count == 0

    # Restored everywhere, except from the story it was also hidden from on its own.
    takedown.hide_coverage(story, article, "Wrong story")
    with django_capture_on_commit_callbacks(execute=True):
        takedown.restore_article(article)
    assert "Zanzibarian" in story_page(client, second)
    assert "Zanzibarian" not in story_page(client, story)
    assert Provider.objects.get(domain="alpha.example.com").covered_count == 1


def test_a_lead_article_is_never_hidden_everywhere(story):
    with pytest.raises(takedown.TakedownRefusedError, match=r"headline article.*unpublish"):
        takedown.hide_article(story.lead, "Legal request")
    story.lead.refresh_from_db()
    assert story.lead.hidden_at is None
    assert not Coverage.objects.filter(hidden=True).exists()


def test_another_outlets_picture_is_credited_until_it_is_taken_down(client, story, django_capture_on_commit_callbacks):
    assert story.image["credit"] == {"name": "Alpha Wire", "slug": "alpha-example-com"}
    figure = parse(story_page(client, story)).find("figure")
    assert figure.find("figcaption").text == "Picture: Alpha Wire"
    assert figure.find("a", href="/providers/alpha-example-com/").text == "Alpha Wire"
    card = parse(client.get("/").content.decode()).find("article")
    assert card.find("p", class_="picture-credit").text == "Picture: Alpha Wire"

    with django_capture_on_commit_callbacks(execute=True):  # the caches renew
        takedown.hide_coverage(story, alpha_item(story), "Legal request")
    markup = story_page(client, story)
    assert "Picture:" not in markup and "pics.example.net" not in markup
    assert "Picture:" not in client.get("/").content.decode()


# --- re-imports ---------------------------------------------------------------------

DOC = """---
title: "{title}"
publishedDateTime: 2024-03-01T10:00:00Z
webUrl: "https://{lead}/story"
published: true
provider:
  name: "Lead {lead}"
  domain: {lead}
related:
{related}---
"""
ITEM = """  - title: "{title}"
    excerpt: "{excerpt}"
    publishedDateTime: 2024-03-01T11:00:00Z
    webUrl: "https://{domain}/{slug}"
    provider:
      name: "Outlet {domain}"
      domain: {domain}
    images:
      - url: "https://{domain}/{slug}.jpg"
"""


def write_doc(path, lead, items, title="Dam opens its gates", excerpt="first"):
    related = "".join(ITEM.format(title=t, domain=d, slug=s, excerpt=excerpt) for t, d, s in items)
    path.write_text(DOC.format(title=title, lead=lead, related=related))


def run_import(directory):
    call_command("import_stories", str(directory), verbosity=0)


SPILL = ("Quokka spill downstream", "spill.example.org", "spill")
RIVER = ("River rises", "river.example.org", "river")
TOWN = ("Town watches the water", "town.example.org", "town")


def test_reimports_keep_an_item_hidden_from_its_story(db, tmp_path):
    doc = tmp_path / "dam.md"
    write_doc(doc, "dam.example.org", [SPILL, RIVER])
    run_import(tmp_path)
    story = Story.objects.get()
    takedown.hide_coverage(story, Article.objects.get(title=SPILL[0]), "Legal request")

    def check():
        story.refresh_from_db()
        assert "Quokka" not in story.search_text
        assert [o[0] for o in story.outlets_preview] == [f"Outlet {d}" for _, d, _ in shown]
        assert story.coverage_count == len(shown)
        assert (story.image or {}).get("url", "") != "https://spill.example.org/spill.jpg"
        assert not Story.objects.published().search("quokka").exists()
        assert Provider.objects.get(domain="spill.example.org").covered_count == 0

    # A newer version of the document, the hidden item moved first.
    write_doc(doc, "dam.example.org", [SPILL, TOWN, RIVER], excerpt="second")
    run_import(tmp_path)
    shown = [TOWN, RIVER]
    check()
    assert Article.objects.get(title=RIVER[0]).excerpt == "second"
    assert story.image["url"] == "https://town.example.org/town.jpg"

    # A version without it, then one that brings it back: still hidden.
    write_doc(doc, "dam.example.org", [RIVER], excerpt="third")
    run_import(tmp_path)
    shown = [RIVER]
    check()
    write_doc(doc, "dam.example.org", [RIVER, SPILL], excerpt="fourth")
    run_import(tmp_path)
    check()
    assert Coverage.objects.get(article__title=SPILL[0]).hidden


def test_reimports_keep_an_article_hidden_everywhere_even_in_new_stories(db, tmp_path):
    write_doc(tmp_path / "dam.md", "dam.example.org", [SPILL, RIVER])
    run_import(tmp_path)
    takedown.hide_article(Article.objects.get(title=SPILL[0]), "Court order")

    # Another document covering the same article, and one led by it.
    write_doc(tmp_path / "flood.md", "flood.example.org", [SPILL, TOWN], title="Flood warning lifted")
    (tmp_path / "led.md").write_text(
        DOC.format(title=SPILL[0], lead="spill.example.org", related="").replace("/story", "/spill")
    )
    run_import(tmp_path)
    flood = Story.objects.get(lead__title="Flood warning lifted")
    assert flood.coverage_count == 1 and "Quokka" not in flood.search_text
    assert flood.image["url"] == "https://town.example.org/town.jpg"
    assert Coverage.objects.get(story=flood, article__title=SPILL[0]).hidden
    led = Story.objects.get(lead__title=SPILL[0])
    assert not led.published, "a story led by an article hidden everywhere comes in as a draft"
    assert not Story.objects.published().search("quokka").exists()
    assert Provider.objects.get(domain="spill.example.org").covered_count == 0

    takedown.restore_article(Article.objects.get(title=SPILL[0]))
    flood.refresh_from_db()
    assert flood.coverage_count == 2 and "Quokka" in flood.search_text
