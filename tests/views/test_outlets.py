"""The outlet index and an outlet's page: what it led, what it covered, who covers the same stories."""

import re

import pytest

from stories.signals import content_changed
from tests.factories import BASE_TIME, hours, make_provider, make_story
from tests.views.helpers import in_order, next_link, page, text

pytestmark = pytest.mark.django_db


def test_provider_index_and_page(client):
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    tc = make_provider("techcrunch.com", "TechCrunch")
    tnw = make_provider("thenextweb.com", "The Next Web")
    quiet = make_provider("quiet.example.com", "Quiet Outlet")
    make_story("Globe leads 1", provider=globe, coverage=[{"provider": tc}, {"provider": tnw}])
    make_story("Globe leads 2", provider=globe, coverage=[{"provider": tc}], published_at=BASE_TIME - hours(1))
    make_story("TechCrunch leads", provider=tc, coverage=[{"provider": globe}], published_at=BASE_TIME - hours(2))
    make_story("Quiet draft", provider=quiet, published=False)
    index = text(client.get("/providers/"))
    assert "The Boston Globe bostonglobe.com 2 1" in index
    assert "TechCrunch techcrunch.com 1 2" in index
    assert "The Next Web thenextweb.com 0 1" in index
    assert "Quiet Outlet" not in index
    assert in_order(index, "The Boston Globe", "TechCrunch", "The Next Web")

    shown = text(client.get("/providers/bostonglobe-com/"))
    led, beside = shown.index("Stories The Boston Globe led"), shown.index("Often beside it")
    assert led < shown.index("Globe leads 1") < shown.index("Globe leads 2") < beside
    assert "TechCrunch leads" not in shown  # on the page of the stories it covered
    assert "TechCrunch 3 stories" in shown[beside:] and "The Next Web 1 story" in shown[beside:]
    assert in_order(shown[beside:], "TechCrunch", "The Next Web")
    covered = text(client.get("/providers/bostonglobe-com/covered/"))
    assert "Stories The Boston Globe covered" in covered and "TechCrunch leads" in covered
    assert "Globe leads 1" not in covered and "Globe leads 2" not in covered
    assert client.get("/providers/quiet-example-com/").status_code == 404
    assert client.get("/providers/quiet-example-com/covered/").status_code == 404
    assert client.get("/providers/nobody/").status_code == 404


def test_the_led_and_covered_lists_link_to_each_other(client):
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    make_story("Globe leads", provider=globe, coverage=[{"provider": make_provider("tc.com", "TC")}])
    make_story("Globe covers", coverage=[{"provider": globe}])
    for url, current in [("/providers/bostonglobe-com/", "led"), ("/providers/bostonglobe-com/covered/", "covered")]:
        shown = page(client.get(url))
        tabs = shown.find("nav", aria_label="Stories of The Boston Globe")
        assert tabs.find("a", text="Stories it led (1)").get("href") == "/providers/bostonglobe-com/"
        assert tabs.find("a", text="Stories it covered (1)").get("href") == "/providers/bostonglobe-com/covered/"
        assert tabs.find("a", aria_current="page").text == f"Stories it {current} (1)"
        assert shown.find("link", rel="canonical").get("href") == f"http://testserver{url}"
        assert not [meta for meta in shown.find_all("meta") if meta.get("name") == "robots"]


@pytest.mark.parametrize("dense", [False, True])  # a small outlet's list and a big one's are read differently
def test_the_covered_list_pages_through_every_story_the_outlet_covered(client, monkeypatch, dense):
    monkeypatch.setattr("stories.views.PER_PAGE", 3)
    monkeypatch.setattr("stories.directories.DENSE_OUTLET", 1 if dense else 10_000)
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    for n in range(8):
        make_story(
            f"Covered {n}", coverage=[{"provider": globe}, {"provider": globe}], published_at=BASE_TIME - hours(n)
        )
    make_story("Led, not covered", provider=globe, coverage=[{"provider": globe}], published_at=BASE_TIME + hours(1))
    make_story("Covered draft", coverage=[{"provider": globe}], published=False)
    make_story("Someone else's", coverage=[{}])
    seen, url, pages = [], "/providers/bostonglobe-com/covered/", 0
    while url:
        shown = page(client.get(url))
        pages += 1
        seen += re.findall(r"Covered \d", " ".join(a.text for a in shown.find_all("a", class_="story-link")))
        if pages > 1:
            robots = [meta for meta in shown.find_all("meta") if meta.get("name") == "robots"]
            assert robots and robots[0].get("content") == "noindex, follow"
        found = next_link(shown)
        url = "/providers/bostonglobe-com/covered/" + found if found else None
    assert seen == [f"Covered {n}" for n in range(8)]  # each once, newest first, though covered twice
    assert pages == 3


def test_an_outlet_page_has_a_weekly_chart_of_its_stories(client):
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    make_story("Latest", provider=globe, published_at=BASE_TIME)
    make_story("Same week", coverage=[{"provider": globe}], published_at=BASE_TIME - hours(24))
    make_story("Year before", provider=globe, published_at=BASE_TIME - hours(24 * 200))
    make_story("Too old", provider=globe, published_at=BASE_TIME - hours(24 * 400))
    for url in ["/providers/bostonglobe-com/", "/providers/bostonglobe-com/covered/"]:
        chart = page(client.get(url)).find("svg", role="img")
        assert chart.find("title").text == "Stories per week, the 52 weeks to the week of 29 Apr 2024"
        assert chart.find("desc").text == "3 stories in all; the busiest week was that of 29 Apr 2024, with 2."
        assert [bar.find("title").text for bar in chart.find_all("rect")] == [
            "Week of 9 Oct 2023: 1 story",
            "Week of 29 Apr 2024: 2 stories",
        ]


def test_an_outlet_pages_chart_is_drawn_again_once_the_content_changes(client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # the whole-page cache aside: the chart's own cache is under test
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    make_story("One", provider=globe, published_at=BASE_TIME)
    assert page(client.get("/providers/bostonglobe-com/")).find("desc").text.startswith("1 story in all")
    make_story("Two", provider=globe, published_at=BASE_TIME - hours(24))
    assert page(client.get("/providers/bostonglobe-com/")).find("desc").text.startswith("1 story in all")  # cached
    content_changed.send(sender=None)  # an import or a publish
    assert page(client.get("/providers/bostonglobe-com/")).find("desc").text.startswith("2 stories in all")


def test_provider_index_pages_through_every_outlet_once(client, monkeypatch):
    monkeypatch.setattr("stories.views.PROVIDERS_PER_PAGE", 2)
    for n in range(5):
        provider = make_provider(f"p{n}.example.com", f"Outlet P{n}")
        for _ in range(n % 3 + 1):
            make_story(provider=provider)
    seen, url = [], "/providers/"
    while url:
        shown = page(client.get(url))
        seen += re.findall(r"Outlet P\d", shown.text)
        found = next_link(shown)
        url = "/providers/" + found if found else None
    assert seen == ["Outlet P2", "Outlet P1", "Outlet P4", "Outlet P0", "Outlet P3"]  # most led first, then by id
