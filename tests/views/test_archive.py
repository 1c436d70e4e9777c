"""A day's archive page: the day's stories, latest first, with links to the days before and after."""

import re
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


@pytest.fixture
def archive():
    make_story("Last year", published_at=datetime(2023, 12, 31, 23, 59, tzinfo=UTC))
    make_story("March", published_at=datetime(2024, 3, 15, 9, 0, tzinfo=UTC))
    make_story("May first", published_at=datetime(2024, 5, 1, 0, 0, tzinfo=UTC))
    make_story("May first again", published_at=datetime(2024, 5, 1, 23, 59, tzinfo=UTC))
    make_story("May third", published_at=datetime(2024, 5, 3, 9, 0, tzinfo=UTC))
    make_story("June draft", published_at=datetime(2024, 6, 2, 9, 0, tzinfo=UTC), published=False)
    make_story("Next year", published_at=datetime(2025, 1, 1, 0, 0, tzinfo=UTC))


def day_links(document):
    return [
        (link.get("href"), link.parent.find("span", class_="count").text)
        for link in document.find_all("a", href=re.compile(r"^/archive/\d{4}/\d\d/\d\d/$"))
        if link.closest("ul").tokens("class") >= {"archive-days"}
    ]


def test_a_month_lists_its_days_with_stories_and_links_to_them_its_year_and_its_neighbours(client, archive):
    month = page(client.get("/archive/2024/05/"))
    assert [heading.text for heading in month.find_all("h1")] == ["Stories of May 2024"]
    assert day_links(month) == [("/archive/2024/05/01/", "2 stories"), ("/archive/2024/05/03/", "1 story")]
    assert month.find("a", text="Wednesday 1 May")
    assert month.find("a", text="All of 2024").get("href") == "/archive/2024/"
    assert month.find("a", rel="prev").get("href") == "/archive/2024/03/"  # the nearest month with stories
    assert month.find("a", rel="next").get("href") == "/archive/2025/01/"  # June has only a draft
    assert month.find("link", rel="canonical").get("href") == "http://testserver/archive/2024/05/"
    assert page(client.get("/archive/2024/5/")).find("link", rel="canonical").get("href").endswith("/archive/2024/05/")


def test_a_year_lists_its_days_month_by_month(client, archive):
    year = page(client.get("/archive/2024/"))
    assert [heading.text for heading in year.find_all("h1")] == ["Stories of 2024"]
    headings = [heading.text for heading in year.find("main").find_all("h2")]
    assert headings == ["March 2024 1 story", "May 2024 3 stories"]
    assert year.find("a", text="May 2024").get("href") == "/archive/2024/05/"
    assert day_links(year) == [
        ("/archive/2024/03/15/", "1 story"),
        ("/archive/2024/05/01/", "2 stories"),
        ("/archive/2024/05/03/", "1 story"),
    ]
    assert year.find("a", rel="prev").get("href") == "/archive/2023/"
    assert year.find("a", rel="next").get("href") == "/archive/2025/"
    assert not page(client.get("/archive/2025/")).find_all("a", rel="next")


def test_the_day_page_links_up_to_its_month_and_year_and_the_footer_to_the_archive(client, archive):
    day = page(client.get("/archive/2024/05/03/"))
    assert day.find("a", text="All of May 2024").get("href") == "/archive/2024/05/"
    assert day.find("a", text="All of 2024").get("href") == "/archive/2024/"
    footer_link = day.find("footer").find("a", text="Archive by date")
    response = client.get(footer_link.get("href"))
    assert response.status_code == 302 and response["Location"] == "/archive/2025/"  # the newest story's year


@pytest.mark.parametrize(
    "url",
    [
        *("/archive/2024/06/", "/archive/2024/02/", "/archive/2022/", "/archive/2024/13/", "/archive/2024/00/"),
        *("/archive/0000/", "/archive/9999/", "/archive/9999/12/", "/archive/0000/01/"),
    ],
)
def test_an_empty_or_impossible_month_or_year_is_not_found(client, archive, url):
    assert client.get(url).status_code == 404


def test_no_archive_without_published_stories(client):
    make_story("Draft", published=False)
    assert client.get("/archive/").status_code == 404


def test_a_month_follows_the_site_time_zone(client, settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # UTC+9: 20:00 UTC on 31 May is 05:00 on 1 June there
    make_story("Late in May, UTC", published_at=datetime(2024, 5, 31, 20, 0, tzinfo=UTC))
    assert day_links(page(client.get("/archive/2024/06/"))) == [("/archive/2024/06/01/", "1 story")]
    assert client.get("/archive/2024/05/").status_code == 404
