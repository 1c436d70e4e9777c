"""What a page costs in queries: the same for one story as for sixty, and one query once caches are warm."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stories.views import PER_PAGE
from tests.factories import BASE_TIME, make_provider, make_story, make_topic
from tests.views.helpers import count_queries, make_many, next_link, page

pytestmark = pytest.mark.django_db

MAX_QUERIES = 4  # a page with every cache cold; warm, a list page costs one query (tested below)


def _list_urls():
    topic = make_topic("AI")
    provider = make_provider("budget.example.com", "Budget")
    return topic, provider


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?sort=top",
        "/topics/ai/",
        "/providers/other-example-com/",  # leads a story from the first one on (budget-example-com covers it)
        "/providers/budget-example-com/covered/",
        "/search/?q=story",
        "/?topic=ai&provider=budget-example-com&mute=muted-example-com&min_quality=0&since=2020-01-01",
        "/archive/2024/05/01/",
        "/archive/2024/05/",
        "/archive/2024/",
        "/topics/",
        "/providers/",
    ],
)
def test_list_pages_cost_the_same_for_1_and_60_stories(client, url):
    topic, provider = _list_urls()
    other = make_provider("other.example.com", "Other")
    muted = make_provider("muted.example.com", "Muted")

    def add(n, start):
        for i in range(start, start + n):
            make_story(
                f"Story {i}",
                provider=provider if i % 2 else other,
                published_at=BASE_TIME - timedelta(minutes=i),
                topics=[topic, make_topic(f"Topic {i % 5}")],
                coverage=[{"provider": other}, {"provider": provider}, {"provider": muted}, {}],
            )

    add(1, 0)
    one = count_queries(client, url)
    add(59, 1)
    sixty = count_queries(client, url)
    assert one == sixty, (one, sixty)
    assert sixty <= MAX_QUERIES


def test_a_deep_page_costs_the_same_as_the_first(client):
    make_many(PER_PAGE * 3, topics=["AI"])
    second = next_link(page(client.get("/")))
    assert re.fullmatch(r"\?after=[0-9.]+", second), second
    deeper = next_link(page(client.get("/" + second)))
    assert re.fullmatch(r"\?after=[0-9.]+", deeper), deeper
    assert count_queries(client, "/") == count_queries(client, "/" + deeper)


def test_story_page_costs_the_same_for_1_and_50_coverage_items(client):
    small = make_story("Small story", topics=["AI"], coverage=[{}])
    big = make_story("Big story", topics=["AI", "ML"], coverage=[{} for _ in range(50)])
    make_story("Related story", topics=["AI"])
    one = count_queries(client, small.get_absolute_url())
    fifty = count_queries(client, big.get_absolute_url())
    assert one == fifty <= MAX_QUERIES
    assert count_queries(client, big.get_absolute_url() + "?order=time") == fifty


@pytest.mark.parametrize("url", ["/", "/topics/ai/", "/providers/budget-example-com/"])
def test_a_list_page_costs_one_query_once_its_cards_and_directories_are_cached(client, url):
    """The card, form, directory and outlet caches warm; the page cache misses (another URL)."""
    topic, provider = _list_urls()
    for i in range(5):
        make_story(f"Story {i}", provider=provider, published_at=BASE_TIME - timedelta(minutes=i), topics=[topic])
    cold = count_queries(client, url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url + "?warm=1")
    assert len(queries) == 1 < cold, [query["sql"] for query in queries.captured_queries]
    shown = page(response).text
    assert "Story 4" in shown and "Story 0" in shown


@pytest.mark.parametrize("url", ["/sitemap.xml", "/sitemap-stories.xml", "/sitemap-providers.xml"])
def test_sitemaps_cost_a_fixed_number_of_queries(client, url):
    make_many(3, topics=["AI"])
    few = count_queries(client, url)
    make_many(30, topics=["ML"])
    assert count_queries(client, url) == few <= MAX_QUERIES
