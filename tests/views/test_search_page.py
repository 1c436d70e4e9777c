"""The search page: every word must be found, in any case, in a headline or in any outlet's coverage."""

import pytest

from tests.factories import make_story
from tests.views.helpers import page, text

pytestmark = pytest.mark.django_db


def test_search_needs_every_word_in_any_case_in_leads_or_coverage(client):
    make_story("Amazon bans face recognition", lead={"excerpt": "Police use is paused."})
    make_story("Microsoft news", coverage=[{"title": "Amazon follows", "excerpt": "Police in Seattle"}])
    make_story("Unrelated story about amazon")
    found = page(client.get("/search/?q=AMAZON police"))
    assert "Amazon bans face recognition" in found.text and "Microsoft news" in found.text
    assert "Unrelated story" not in found.text
    assert [heading.text for heading in found.find_all("h1")] == ["Search: “AMAZON police”"]
    assert "No story holds all these words" in text(client.get("/search/?q=zebra"))


def test_empty_search_shows_a_prompt(client):
    make_story("Anything")
    shown = text(client.get("/search/"))
    assert "Type one or more words" in shown and "Anything" not in shown


def test_a_search_matching_more_than_the_bound_says_it_shows_the_newest(client, monkeypatch):
    from stories import search
    from tests.factories import BASE_TIME, hours

    monkeypatch.setattr(search, "COUNT_BOUND", 2)
    for age in range(3):
        make_story(f"Budget story {age}", published_at=BASE_TIME - hours(10 - age))
    found = page(client.get("/search/?q=budget"))
    assert "Budget story 2" in found.text and "Budget story 1" in found.text and "Budget story 0" not in found.text
    best = "the best of " if "Most relevant first" in found.text else ""
    assert f"More than 2 stories match: showing {best}the newest 2." in found.text
