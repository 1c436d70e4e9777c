"""Muted outlets without JavaScript (``?mute=a,b``): gone from lists, cards, coverage rows, related stories,
counts and feeds; the address names them one way only; the cards of muted pages never reach the others."""

import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.test import RequestFactory

from stories.caching import PAGE_PARAMS
from stories.muting import canonical_mute_url, parse_muted, shown_outlet_count, without_muted
from stories.query_guard import SUBJECTS
from tests.factories import BASE_TIME, make_provider, make_story
from tests.views.helpers import card, count_queries, page, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def outlets():
    return {
        "globe": make_provider("bostonglobe.com", "The Boston Globe"),
        "muted": make_provider("muted.example.com", "Muted Outlet"),
        "other": make_provider("other.example.com", "Other Outlet"),
        "also": make_provider("also.example.com", "Also Muted"),
    }


@pytest.fixture
def stories(outlets):
    covered = make_story(
        "Globe story covered by the muted outlet",
        provider=outlets["globe"],
        topics=["AI"],
        coverage=[
            {"title": "Muted outlet's take", "provider": outlets["muted"]},
            {"title": "Other outlet's take", "provider": outlets["other"]},
        ],
    )
    led = make_story(
        "Story the muted outlet led",
        provider=outlets["muted"],
        topics=["AI"],
        published_at=BASE_TIME - timedelta(hours=1),
        coverage=[{"title": "Globe follows", "provider": outlets["globe"]}],
    )
    return {"covered": covered, "led": led}


# --- the parameter ---------------------------------------------------------------------------------


def test_muted_slugs_are_read_sorted_distinct_from_commas_and_repeats_and_junk_is_dropped():
    assert parse_muted(["b,a", "c", "a", ""]) == ("a", "b", "c")
    assert parse_muted(["a, b ,,"]) == ("a", "b")
    assert parse_muted(["<script>", "x" * 300, "ok"]) == ("ok",)


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("mute=b,a", "/?mute=a%2Cb"),
        ("mute=a&mute=b", "/?mute=a%2Cb"),
        ("topic=ai&mute=b&sort=top&mute=a", "/?topic=ai&mute=a%2Cb&sort=top"),
        ("exclude_provider=a", "/?mute=a"),
        ("exclude_provider=a&mute=b", "/?mute=a%2Cb"),
        ("mute=<b>", "/"),
    ],
)
def test_muted_outlets_named_any_other_way_redirect_to_one_mute_parameter(client, query, target):
    response = client.get(f"/?{query}")
    assert response.status_code == 301
    assert response["Location"] == target


def test_the_canonical_form_is_served_and_cached_on_its_one_parameter():
    request = RequestFactory().get("/?mute=a,b&topic=ai")
    assert canonical_mute_url(request) is None
    assert "mute" in PAGE_PARAMS and "exclude_provider" not in PAGE_PARAMS
    assert SUBJECTS["mute"] == "The muted outlets"


def test_unmute_links_take_one_outlet_out_and_go_back_to_the_first_page():
    request = RequestFactory().get("/topics/ai/?mute=a,b&after=123&sort=top")
    assert without_muted(request, {"a"}) == "/topics/ai/?mute=b&sort=top"
    assert without_muted(request, {"a", "b"}) == "/topics/ai/?sort=top"


def test_a_count_less_its_muted_outlets():
    assert shown_outlet_count(3, ["a", "b", "c"], {"b", "x"}) == 2
    assert shown_outlet_count(3, ["a", "b", "c"], ()) == 3


# --- lists and cards ---------------------------------------------------------------------------


def test_a_muted_outlet_leaves_the_list_its_names_and_counts(client, stories):
    plain = page(client.get("/"))
    shown = card(plain, "Globe story covered by the muted outlet")
    assert "Reported by 3 outlets" in shown.text and "Muted Outlet" in shown.text
    assert shown.get("data-lead-outlet") == "bostonglobe-com"
    assert shown.find("span", class_="outlet-count").get("data-outlets") == (
        "bostonglobe-com muted-example-com other-example-com"
    )
    assert (
        shown.find("span", class_="outlet-name", text=re.compile("^Muted Outlet")).get("data-outlet")
        == "muted-example-com"
    )

    muted = page(client.get("/?mute=muted-example-com"))
    assert "Story the muted outlet led" not in muted.text
    shown = card(muted, "Globe story covered by the muted outlet")
    assert "Reported by 2 outlets" in shown.text and "Muted Outlet" not in shown.text
    assert "including Other Outlet" in shown.text
    assert shown.find("span", class_="outlet-count").get("data-outlets") == "bostonglobe-com other-example-com"
    # The control that says so, with the link that undoes it.
    assert "1 outlet muted" in muted.text
    assert muted.find("a", text="Unmute all").get("href") == "/"


def test_a_card_rendered_for_muted_outlets_never_reaches_other_readers(client, stories):
    assert (
        "Muted Outlet"
        not in card(page(client.get("/?mute=muted-example-com")), "Globe story covered by the muted outlet").text
    )
    assert "Muted Outlet" in card(page(client.get("/")), "Globe story covered by the muted outlet").text
    assert "Muted Outlet" in card(page(client.get("/?topic=ai")), "Globe story covered by the muted outlet").text


def test_the_filter_form_mutes_several_outlets_with_a_multi_select(client, stories, outlets):
    shown = page(client.get("/?mute=also-example-com,muted-example-com"))
    select = shown.find("select", name="mute")
    assert select.get("multiple") is not None
    chosen = [option.get("value") for option in select.find_all("option") if option.get("selected") is not None]
    assert chosen == ["muted-example-com"]  # only outlets with stories are choices; the others are ignored
    assert "Story the muted outlet led" not in shown.text


def test_search_and_topic_pages_mute_too(client, stories):
    assert "Story the muted outlet led" not in text(client.get("/topics/ai/?mute=muted-example-com"))
    assert "Story the muted outlet led" in text(client.get("/topics/ai/"))
    found = text(client.get("/search/?q=story&mute=muted-example-com"))
    assert "Globe story covered" in found and "Story the muted outlet led" not in found


# --- the story page ------------------------------------------------------------------------------


def test_a_muted_outlet_leaves_the_story_page_rows_related_and_count(client, stories):
    url = stories["covered"].get_absolute_url()
    plain = page(client.get(url))
    assert plain.find("h2", id="coverage-heading").text == "Reported by 3 outlets"
    row = plain.find("span", text="Muted outlet's take").closest("li")
    assert row.get("data-outlet") == "muted-example-com"
    assert plain.find("button", data_mute="muted-example-com").get("hidden") is not None  # shown by the script
    assert "Story the muted outlet led" in plain.text

    muted = page(client.get(f"{url}?mute=muted-example-com"))
    assert muted.find("h2", id="coverage-heading").text == "Reported by 2 outlets"
    assert "Muted outlet's take" not in muted.text and "Other outlet's take" in muted.text
    assert "Story the muted outlet led" not in muted.text  # related: it led it
    assert "1 outlet muted" in muted.text
    assert muted.find("a", text="Unmute all").get("href") == url


def test_story_page_with_muted_outlets_stays_within_the_query_budget(client, stories):
    url = stories["covered"].get_absolute_url()
    assert count_queries(client, f"{url}?mute=muted-example-com") <= 5


# --- feeds ------------------------------------------------------------------------------------------


def _items(response):
    assert response.status_code == 200, response.status_code
    channel = ElementTree.fromstring(response.content).find("channel")
    return {item.findtext("title"): item.findtext("description") for item in channel.findall("item")}


def test_feeds_take_the_muted_outlets(client, stories):
    plain = _items(client.get("/feeds/search.rss?topic=ai"))
    assert "Reported by 3 outlets." in plain["Globe story covered by the muted outlet"]
    assert "Story the muted outlet led" in plain
    for url in ("/feeds/search.rss?topic=ai&mute=muted-example-com", "/feeds/latest.rss?mute=muted-example-com"):
        items = _items(client.get(url))
        assert "Story the muted outlet led" not in items, url
        assert "Reported by 2 outlets." in items["Globe story covered by the muted outlet"], url
    assert client.get("/feeds/latest.rss?exclude_provider=muted-example-com")["Location"] == (
        "/feeds/latest.rss?mute=muted-example-com"
    )
