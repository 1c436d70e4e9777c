"""Search over headlines and excerpts of leads and coverage, on either database."""

import pytest
from django.db import connection

from stories.models import Story
from stories.search import fts5_query, more_than_bound, search_stories, search_words
from tests.factories import make_article, make_story, write_document

pytestmark = pytest.mark.django_db


def titles(queryset):
    return [story.title for story in queryset]


def test_words_match_stemmed_in_leads_and_coverage():
    make_story("Regulators recognize the risk of facial scanning")
    make_story("Budget news", coverage=[make_article(title="Police are recognizing faces in crowds")])
    make_story("Weather report")
    found = set(titles(Story.objects.search("recognizing")))
    assert found == {"Regulators recognize the risk of facial scanning", "Budget news"}


def test_every_word_is_required():
    make_story("Facial recognition banned by the city")
    make_story("Facial expressions in art")
    assert titles(Story.objects.search("facial banned")) == ["Facial recognition banned by the city"]


def test_search_sees_only_the_queryset_it_is_given():
    make_story("Drafted chip story", published=False)
    make_story("Published chip story")
    assert titles(Story.objects.published().search("chip")) == ["Published chip story"]


def test_an_empty_or_syntax_only_query_finds_nothing():
    make_story("Anything at all")
    assert not Story.objects.search("").exists()
    assert not Story.objects.search('"*()^').exists()


def test_fts5_query_quotes_every_word():
    assert fts5_query(search_words('Police OR "NEAR" x*')) == '"police" "or" "near" "x"'


def test_a_reimported_story_is_found_by_its_new_words_only(tmp_path):
    from django.core.management import call_command

    doc = tmp_path / "doc.md"
    write_document(doc, "Zebras escape the zoo")
    call_command("import_stories", str(doc), verbosity=0)
    assert titles(Story.objects.search("zebras")) == ["Zebras escape the zoo"]
    write_document(doc, "Giraffes escape the zoo")
    call_command("import_stories", str(doc), verbosity=0)
    assert not Story.objects.search("zebras").exists()
    assert titles(Story.objects.search("giraffes")) == ["Giraffes escape the zoo"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="relevance ranking is PostgreSQL's")
def test_postgresql_ranks_by_relevance_then_recency(client):
    from tests.factories import BASE_TIME, hours

    make_story("Police police police facial tech", published_at=BASE_TIME - hours(48))
    make_story("A story mentioning police once", published_at=BASE_TIME)
    ranked = Story.objects.search("police").order_by("-search_rank", "-published_at", "-id")
    assert titles(ranked) == ["Police police police facial tech", "A story mentioning police once"]
    page = client.get("/search/", {"q": "police"}).content.decode()
    assert page.index("Police police police facial tech") < page.index("A story mentioning police once")
    assert "Most relevant first" in page


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")
def test_sqlite_search_uses_the_fts5_index():
    make_story("Indexed story")
    sql = str(Story.objects.search("indexed").query)
    assert "stories_story_fts MATCH" in sql
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM stories_story_fts WHERE stories_story_fts MATCH '\"indexed\"'")
        assert cursor.fetchone()[0] == 1


def test_a_search_reads_only_the_newest_matches_and_says_there_are_more(monkeypatch):
    from stories import search
    from tests.factories import BASE_TIME, hours

    for age in range(4):  # made oldest first, as stories come in
        make_story(f"Budget story {age}", published_at=BASE_TIME - hours(10 - age))
    make_story("Weather report")
    newest = search_stories(Story.objects.published(), "budget", bound=2).order_by("-published_at", "-id")
    assert titles(newest) == ["Budget story 3", "Budget story 2"]
    assert all(more_than_bound(story, bound=2) for story in newest)
    everything = search_stories(Story.objects.published(), "budget", bound=4)
    assert len(everything) == 4 and not any(more_than_bound(story, bound=4) for story in everything)
    monkeypatch.setattr(search, "COUNT_BOUND", 2)  # what the page reads when more match than it shows
    assert len(Story.objects.search("budget")) == 2


def test_a_search_bounded_with_spaceless_runs_and_words_finds_stories_holding_both():
    for i in range(3):
        make_story(f"東京 budget story {i}")
    make_story("東京 weather")
    make_story("Budget without the city")
    found = search_stories(Story.objects.all(), "budget 東京", bound=2).order_by("-published_at", "-id")
    assert titles(found) == ["東京 budget story 2", "東京 budget story 1"] and more_than_bound(found[0], bound=2)
    assert set(titles(Story.objects.search("東京 budget"))) == {f"東京 budget story {i}" for i in range(3)}
