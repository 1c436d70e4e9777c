"""Paging through the latest and the top stories: keyset cursors, filters kept, bad cursors refused."""

import re

import pytest
from django.db import connection

from stories.models import Story
from stories.pagination import NEWEST, TOP, KeysetPaginator
from stories.views import PER_PAGE
from tests.factories import BASE_TIME, hours, make_story
from tests.views.helpers import make_many, next_link, page

pytestmark = pytest.mark.django_db


def test_keyset_pagination_newer_and_older(client):
    make_many(PER_PAGE + 5)
    first = page(client.get("/"))
    assert "Story number 000" in first.text and f"Story number {PER_PAGE - 1:03d}" in first.text
    assert f"Story number {PER_PAGE:03d}" not in first.text
    older = re.fullmatch(r"\?after=([0-9.]+)", next_link(first) or "")
    assert older and not first.find_all(rel="prev")
    second = page(client.get(f"/?after={older.group(1)}"))
    assert f"Story number {PER_PAGE:03d}" in second.text and f"Story number {PER_PAGE + 4:03d}" in second.text
    assert "Story number 000" not in second.text and not second.find_all(rel="next")
    newer = re.fullmatch(r"\?before=([0-9.]+)", next_link(second, "prev") or "")
    assert newer
    back = page(client.get(f"/?before={newer.group(1)}"))
    assert "Story number 000" in back.text and f"Story number {PER_PAGE - 1:03d}" in back.text
    assert not back.find_all(rel="prev") and back.find_all(rel="next")
    assert second.find("meta", name="robots").get("content") == "noindex, follow"


def test_top_pagination_walks_every_story_once(client):
    stories = [make_story(f"Ranked {i:03d}", coverage=[{}] * (i % 4), quality=i % 7) for i in range(PER_PAGE * 2 + 3)]
    seen, url = [], "/?sort=top"
    while url:
        shown = page(client.get(url))
        seen += re.findall(r"Ranked \d{3}", shown.text)
        found = next_link(shown)
        url = "/" + found if found else None
    assert sorted(seen) == sorted(s.lead.title for s in stories)
    expected = [s.lead.title for s in Story.objects.top_first().select_related("lead")]
    assert seen == expected


@pytest.mark.parametrize(
    "query",
    ["after=abc", "after=1.2.3", "before=", "after=99999999999999999999999.1", "after=1.1&before=1.1", "after=-1.x"],
)
def test_malformed_cursor_is_404(client, query):
    make_story("Anything")
    assert client.get(f"/?{query}").status_code == 404


def test_cursor_past_the_end_is_404(client):
    story = make_story("Only one")
    cursor = KeysetPaginator(NEWEST).cursor_for(story)
    assert client.get(f"/?after={cursor}").status_code == 404
    assert client.get(f"/?before={cursor}").status_code == 404
    assert client.get(f"/?sort=top&after={KeysetPaginator(TOP).cursor_for(story)}").status_code == 404


def test_filters_survive_pagination(client):
    make_many(PER_PAGE + 2, topics=["AI"])
    make_story("Off topic", published_at=BASE_TIME + hours(1))
    first = page(client.get("/?topic=ai"))
    assert "Off topic" not in first.text
    link = next_link(first)
    assert "topic=ai" in link
    second = page(client.get("/" + link))
    assert f"Story number {PER_PAGE + 1:03d}" in second.text and "Off topic" not in second.text


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query planner")
def test_keyset_filters_search_an_index():
    make_many(3)
    for keys in (NEWEST, TOP):
        paginator = KeysetPaginator(keys, 2)
        cursor = paginator.parse(paginator.cursor_for(Story.objects.first()))
        for forward in (True, False):
            plan = (
                Story.objects.published()
                .filter(paginator._beyond(cursor, forward))
                .order_by(*paginator.ordering(forward))[:3]
                .explain()
            )
            assert "SEARCH stories_story USING" in plan and "TEMP B-TREE" not in plan, plan
