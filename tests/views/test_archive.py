"""A day's archive page: the day's stories, latest first, with links to the days before and after."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.factories import make_story
from tests.views.helpers import in_order, page

pytestmark = pytest.mark.django_db


def test_day_archive_lists_the_day_with_previous_and_next_days(client):
    make_story("Before", published_at=datetime(2024, 4, 28, 9, 0, tzinfo=UTC))
    make_story("Early that day", published_at=datetime(2024, 5, 1, 0, 0, tzinfo=UTC))
    make_story("Late that day", published_at=datetime(2024, 5, 1, 23, 59, tzinfo=UTC))
    make_story("After", published_at=datetime(2024, 5, 3, 9, 0, tzinfo=UTC))
    make_story("Draft after", published_at=datetime(2024, 5, 2, 9, 0, tzinfo=UTC), published=False)
    day = page(client.get(reverse("stories:day_archive", args=[2024, 5, 1])))
    assert reverse("stories:day_archive", args=[2024, 5, 1]) == "/archive/2024/05/01/"
    assert [heading.text for heading in day.find_all("h1")] == ["Stories of Wednesday 1 May 2024"]
    assert in_order(day.text, "Late that day", "Early that day")
    assert not day.find_all(text="Before") and not day.find_all(text="After")  # the other days' stories
    assert page(client.get("/archive/2024/04/28/")).find_all("a", text="Before")  # which their own days show
    assert "Previous day: 28 April 2024" in day.find("a", href="/archive/2024/04/28/").text
    assert "Next day: 3 May 2024" in day.find("a", href="/archive/2024/05/03/").text
    assert client.get("/archive/2024/5/1/").status_code == 200
    assert client.get("/archive/2024/05/02/").status_code == 404  # only a draft that day
    assert client.get("/archive/2024/02/30/").status_code == 404
    assert client.get("/archive/2024/13/01/").status_code == 404
    assert client.get("/archive/9999/12/31/").status_code == 404
    assert client.get("/archive/0000/01/01/").status_code == 404
