"""Times without JavaScript: every ``<time>`` carries its moment in UTC for the script, its text in the site's
zone (UTC), and pages say which zone that is; day groups say which day (in that zone) they hold."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from stories.cards import day_groups
from tests.factories import BASE_TIME, make_story
from tests.views.helpers import page

pytestmark = pytest.mark.django_db


def render(source, **context):
    return Template("{% load reader %}" + source).render(Context(context))


def test_the_time_attribute_is_utc_whatever_the_sites_zone():
    moment = datetime(2024, 5, 1, 23, 30, tzinfo=UTC)
    with timezone.override("Asia/Tokyo"):
        shown = render("{% timestamp value %} {% time_zone_name %}", value=moment)
    assert shown == '<time datetime="2024-05-01T23:30:00+00:00">2 May 2024, 08:30 JST</time> Asia/Tokyo'
    assert render("{% timestamp value %}", value=moment) == (
        '<time datetime="2024-05-01T23:30:00+00:00">1 May 2024, 23:30 UTC</time>'
    )


def test_day_groups_follow_the_sites_days():
    late = make_story("Late on the first", published_at=datetime(2024, 5, 1, 23, 30, tzinfo=UTC))
    early = make_story("Early on the first", published_at=datetime(2024, 5, 1, 0, 30, tzinfo=UTC))
    groups = day_groups([late, early], ["late card", "early card"], now=datetime(2024, 5, 2, 9, tzinfo=UTC))
    assert [(group["label"], group["cards"]) for group in groups] == [("Yesterday", ["late card", "early card"])]
    with timezone.override("Asia/Tokyo"):
        groups = day_groups([late, early], ["late card", "early card"], now=datetime(2024, 5, 2, 9, tzinfo=UTC))
    assert [(group["label"], group["cards"]) for group in groups] == [
        ("Today", ["late card"]),
        ("Yesterday", ["early card"]),
    ]


def test_pages_say_their_times_are_in_utc_and_name_each_groups_day(client):
    make_story("Newest", published_at=BASE_TIME)
    make_story("A day older", published_at=BASE_TIME - timedelta(days=1))
    home = page(client.get("/"))
    assert home.find("p", class_="time-zone-note").text == "Times are in UTC."
    sections = home.find_all("section", class_="day")
    assert [section.get("data-day") for section in sections] == ["2024-05-01", "2024-04-30"]
    assert home.find("time", datetime="2024-05-01T12:00:00+00:00").text == "1 May 2024, 12:00 UTC"
