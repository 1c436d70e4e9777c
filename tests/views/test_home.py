"""The home page: the latest stories by day, or the top ones; each story's card; the page's head."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from stories.models import Story
from stories.templatetags.reader import relative_time
from tests.factories import BASE_TIME, hours, make_provider, make_story
from tests.views.helpers import card, in_order, page, parse, text

pytestmark = pytest.mark.django_db


def test_home_lists_published_stories_newest_first_with_their_card(client):
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    tc = make_provider("techcrunch.com", "TechCrunch")
    tnw = make_provider("thenextweb.com", "The Next Web")
    older = make_story("Older headline", provider=tc, published_at=BASE_TIME - hours(30))
    newer = make_story(
        "Amazon bans police use of face recognition",
        provider=globe,
        published_at=BASE_TIME,
        lead={"excerpt": "Amazon on Wednesday banned police use."},
        coverage=[{"provider": tc}, {"provider": tnw}, {"provider": tc}],
        topics=["AI", "Computer Vision"],
        image={"url": "https://img.example.com/a.jpg", "width": 1024, "height": 685, "cached": True},
    )
    home = page(client.get("/"))
    assert in_order(home.text, "Amazon bans police use of face recognition", "Older headline")
    assert home.find("a", text="Older headline").get("href") == older.get_absolute_url()
    shown = card(home, "Amazon bans police use of face recognition")
    assert shown.find("a", text="Amazon bans police use of face recognition").get("href") == newer.get_absolute_url()
    assert shown.find("time", datetime="2024-05-01T12:00:00+00:00").text == "1 May 2024, 12:00 UTC"
    assert "Amazon on Wednesday banned police use." in shown.text
    assert "Reported by 3 outlets" in shown.text and "including TechCrunch" in shown.text
    assert shown.find("a", text="TechCrunch").get("href") == reverse("stories:provider_detail", args=[tc.slug])
    assert shown.find("a", text="The Next Web").get("href") == reverse("stories:provider_detail", args=[tnw.slug])
    assert shown.find("a", text="Computer Vision").get("href") == "/topics/computer-vision/"
    picture = shown.find("img", src="https://img.example.com/a.jpg")
    assert (picture.get("width"), picture.get("height")) == ("1024", "685")
    assert picture.get("decoding") == "async" and picture.get("referrerpolicy") == "no-referrer"
    assert re.fullmatch(r"\d+ (?:years|months|days) ago", shown.find("span", class_="reltime").text)
    assert "The Boston Globe" in shown.text


def test_home_groups_stories_under_day_headings(client):
    start_of_today = timezone.now().replace(hour=0, minute=0, second=1, microsecond=0)
    make_story("Story of today", published_at=start_of_today)
    make_story("Story of yesterday", published_at=start_of_today - timedelta(hours=2))
    make_story("Story of long ago", published_at=datetime(2020, 6, 11, 2, 1, tzinfo=UTC))
    home = page(client.get("/"))
    assert in_order(
        home.text,
        "Today",
        "Story of today",
        "Yesterday",
        "Story of yesterday",
        "Thursday 11 June 2020",
        "Story of long ago",
    )
    assert home.find("a", href="/archive/2020/06/11/").text.startswith("Thursday 11 June 2020")


def test_first_picture_is_eager_the_others_lazy(client):
    for n in range(3):
        make_story(
            f"Pictured {n}",
            published_at=BASE_TIME - hours(n),
            image={"url": f"https://img.example.com/{n}.jpg", "width": 10, "height": 10},
        )
    pictures = page(client.get("/")).find_all("img", src=re.compile(r"^https://img\.example\.com/"))
    assert len(pictures) == 3
    assert "loading" not in pictures[0].attrs
    assert all(picture.get("loading") == "lazy" for picture in pictures[1:])


def test_top_orders_by_outlets_then_quality_then_heat_and_says_so(client):
    make_story("Few outlets", coverage=[{}], published_at=BASE_TIME)
    make_story("Many outlets", coverage=[{}, {}, {}], published_at=BASE_TIME - hours(5))
    make_story("Many outlets but lower quality", coverage=[{}, {}, {}], quality=1, published_at=BASE_TIME)
    make_story("Many outlets, best quality, hot", coverage=[{}, {}, {}], quality=50, heat=9)
    make_story("Many outlets, best quality, cold", coverage=[{}, {}, {}], quality=50, heat=2)
    shown = text(client.get("/?sort=top"))
    assert in_order(
        shown,
        "Many outlets, best quality, hot",
        "Many outlets, best quality, cold",
        "Many outlets but lower quality",
        "Many outlets ",
        "Few outlets",
    )
    assert "Top ranks stories by how many different outlets covered them" in shown
    assert "Top stories" in shown


def test_home_has_title_description_canonical_social_tags_and_feeds(client):
    make_story("Anything")
    home = page(client.get("/"))
    assert home.find("title").text == "Latest stories · Newsreader"
    assert home.find("meta", name="description", content=True)
    assert home.find("link", rel="canonical").get("href") == "http://testserver/"
    assert home.find("meta", property="og:title").get("content") == "Latest stories"
    assert home.find("meta", name="twitter:card").get("content") == "summary"
    assert home.find("link", rel="alternate", type="application/rss+xml", href="http://testserver/feeds/latest.rss")
    assert home.find("link", rel="alternate", type="application/atom+xml", href="http://testserver/feeds/latest.atom")
    assert len(home.find_all("h1")) == 1
    assert home.find(class_="skip-link").is_before(home.find("header"))
    assert home.find("main", id="main")


def test_site_url_setting_makes_absolute_links(client, settings):
    settings.SITE_URL = "https://news.example.com"
    story = make_story("Anything")
    assert page(client.get("/")).find("link", rel="canonical").get("href") == "https://news.example.com/"
    canonical = page(client.get(story.get_absolute_url())).find("link", rel="canonical")
    assert canonical.get("href") == f"https://news.example.com{story.get_absolute_url()}"


def test_cached_cards_get_a_fresh_relative_time(django_assert_num_queries):
    from stories.views import story_cards

    story = Story.objects.for_card_keys().get(pk=make_story("Cached card", topics=["AI"]).pk)
    with django_assert_num_queries(1):  # the card missing from the cache: the story whole, its topics with it
        first = story_cards([story], now=BASE_TIME + hours(3))[0]
    with django_assert_num_queries(0):
        later = story_cards([story], now=BASE_TIME + timedelta(days=2))[0]
    assert parse(first).find("span", class_="reltime").text == "3 hours ago"
    assert parse(later).find("span", class_="reltime").text == "2 days ago"
    assert first.replace("3 hours ago", "2 days ago") == later


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (hours(3), "3 hours ago"),
        (timedelta(days=2), "2 days ago"),
        (timedelta(days=65), "2 months ago"),
        (timedelta(days=800), "2 years ago"),
        (-hours(2), "in 2 hours"),
    ],
)
def test_relative_time(delta, expected):
    assert relative_time(BASE_TIME - delta, BASE_TIME) == expected
