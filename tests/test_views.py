"""The reader site: every page's content, drafts, filters, search, pagination, escaping and query budgets."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stories.counts import refresh_counts
from stories.models import Article, Story
from stories.pagination import NEWEST, TOP, KeysetPaginator
from stories.templatetags.reader import jsonld, lead_lag, relative_time, safe_url
from stories.views import PER_PAGE
from tests.factories import BASE_TIME, hours, make_provider, make_story, make_topic

pytestmark = pytest.mark.django_db

MAX_QUERIES = 5  # a page with every cache cold; warm, a list page costs one query (tested below)
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


# --- helpers -------------------------------------------------------------------


def html(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(response):
    """The page's visible text, tags removed, entities decoded, spaces collapsed."""
    body = html(response)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def positions(haystack, *needles):
    found = [haystack.find(needle) for needle in needles]
    assert all(index >= 0 for index in found), list(zip(needles, found, strict=True))
    return found


def in_order(haystack, *needles):
    found = positions(haystack, *needles)
    return found == sorted(found)


def count_queries(client, url, **kw):
    cache.clear()  # a fresh cache: the page, its cards and the filter directories all rebuilt
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kw)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("staff", "staff@example.com", "x-not-a-password-1", is_staff=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def draft():
    story = make_story(
        "Secret draft about quantum chips",
        published=False,
        topics=["AI"],
        coverage=[{"title": "Draft coverage item"}],
        secured="never-shown-secured-value",
    )
    refresh_counts()
    return story


# --- home --------------------------------------------------------------------------


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
    page = html(client.get("/"))
    assert in_order(page, "Amazon bans police use of face recognition", "Older headline")
    assert f'href="{newer.get_absolute_url()}"' in page and f'href="{older.get_absolute_url()}"' in page
    assert '<time datetime="2024-05-01T12:00:00+00:00">1 May 2024, 12:00 UTC</time>' in page
    assert "Amazon on Wednesday banned police use." in page
    assert "Covered by 3 outlets, including" in page
    assert f'<a href="{reverse("stories:provider_detail", args=[tc.slug])}">TechCrunch</a>' in page
    assert f'<a href="{reverse("stories:provider_detail", args=[tnw.slug])}">The Next Web</a>' in page
    assert 'href="/topics/computer-vision/">Computer Vision</a>' in page
    assert 'src="https://img.example.com/a.jpg"' in page and 'width="1024" height="685"' in page
    assert 'decoding="async"' in page and 'referrerpolicy="no-referrer"' in page
    assert re.search(r'class="reltime">\d+ (?:years|months|days) ago<', page)
    assert "The Boston Globe" in page


def test_home_groups_stories_under_day_headings(client):
    start_of_today = timezone.now().replace(hour=0, minute=0, second=1, microsecond=0)
    make_story("Story of today", published_at=start_of_today)
    make_story("Story of yesterday", published_at=start_of_today - timedelta(hours=2))
    make_story("Story of long ago", published_at=datetime(2020, 6, 11, 2, 1, tzinfo=UTC))
    page = text(client.get("/"))
    assert in_order(
        page,
        "Today",
        "Story of today",
        "Yesterday",
        "Story of yesterday",
        "Thursday 11 June 2020",
        "Story of long ago",
    )
    assert 'href="/archive/2020/06/11/"' in html(client.get("/"))


def test_first_picture_is_eager_the_others_lazy(client):
    for n in range(3):
        make_story(
            f"Pictured {n}",
            published_at=BASE_TIME - hours(n),
            image={"url": f"https://img.example.com/{n}.jpg", "width": 10, "height": 10},
        )
    page = html(client.get("/"))
    tags = re.findall(r"<img src=\"https://img\.example\.com/[^>]*>", page)
    assert len(tags) == 3
    assert "loading=" not in tags[0]
    assert all('loading="lazy"' in tag for tag in tags[1:])


def test_top_orders_by_outlets_then_quality_then_heat_and_says_so(client):
    make_story("Few outlets", coverage=[{}], published_at=BASE_TIME)
    make_story("Many outlets", coverage=[{}, {}, {}], published_at=BASE_TIME - hours(5))
    make_story("Many outlets but lower quality", coverage=[{}, {}, {}], quality=1, published_at=BASE_TIME)
    make_story("Many outlets, best quality, hot", coverage=[{}, {}, {}], quality=50, heat=9)
    make_story("Many outlets, best quality, cold", coverage=[{}, {}, {}], quality=50, heat=2)
    page = text(client.get("/?sort=top"))
    assert in_order(
        page,
        "Many outlets, best quality, hot",
        "Many outlets, best quality, cold",
        "Many outlets but lower quality",
        "Many outlets ",
        "Few outlets",
    )
    assert "Top ranks stories by how many different outlets covered them" in page
    assert "Top stories" in page


def test_home_has_title_description_canonical_social_tags_and_feeds(client):
    make_story("Anything")
    page = html(client.get("/"))
    assert "<title>Latest stories · Newsreader</title>" in page
    assert '<meta name="description" content="' in page
    assert '<link rel="canonical" href="http://testserver/">' in page
    assert '<meta property="og:title" content="Latest stories">' in page
    assert '<meta name="twitter:card" content="summary">' in page
    assert (
        '<link rel="alternate" type="application/rss+xml"' in page
        and 'href="http://testserver/feeds/latest.rss"' in page
    )
    assert 'type="application/atom+xml"' in page and 'href="http://testserver/feeds/latest.atom"' in page
    assert page.count("<h1") == 1
    assert page.index('class="skip-link"') < page.index("<header")
    assert '<main id="main"' in page


def test_site_url_setting_makes_absolute_links(client, settings):
    settings.SITE_URL = "https://news.example.com"
    story = make_story("Anything")
    assert '<link rel="canonical" href="https://news.example.com/">' in html(client.get("/"))
    page = html(client.get(story.get_absolute_url()))
    assert f'<link rel="canonical" href="https://news.example.com{story.get_absolute_url()}">' in page


# --- pagination ------------------------------------------------------------------------


def make_many(n, **kw):
    return [make_story(f"Story number {i:03d}", published_at=BASE_TIME - timedelta(minutes=i), **kw) for i in range(n)]


def test_keyset_pagination_newer_and_older(client):
    make_many(PER_PAGE + 5)
    first = client.get("/")
    page = html(first)
    assert "Story number 000" in page and f"Story number {PER_PAGE - 1:03d}" in page
    assert f"Story number {PER_PAGE:03d}" not in page
    older = re.search(r'<a rel="next" href="\?after=([0-9.]+)"', page)
    assert older and 'rel="prev"' not in page
    second = html(client.get(f"/?after={older.group(1)}"))
    assert f"Story number {PER_PAGE:03d}" in second and f"Story number {PER_PAGE + 4:03d}" in second
    assert "Story number 000<" not in second and 'rel="next"' not in second
    newer = re.search(r'<a rel="prev" href="\?before=([0-9.]+)"', second)
    assert newer
    back = html(client.get(f"/?before={newer.group(1)}"))
    assert "Story number 000" in back and f"Story number {PER_PAGE - 1:03d}" in back
    assert 'rel="prev"' not in back and 'rel="next"' in back
    assert '<meta name="robots" content="noindex, follow">' in second


def test_top_pagination_walks_every_story_once(client):
    stories = [make_story(f"Ranked {i:03d}", coverage=[{}] * (i % 4), quality=i % 7) for i in range(PER_PAGE * 2 + 3)]
    seen, url = [], "/?sort=top"
    while url:
        page = html(client.get(url))
        seen += re.findall(r"Ranked \d{3}", page)
        found = re.search(r'<a rel="next" href="(\?[^"]+)"', page)
        url = "/" + unescape(found.group(1)) if found else None
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
    refresh_counts()
    page = html(client.get("/?topic=ai"))
    assert "Off topic" not in page
    link = re.search(r'<a rel="next" href="(\?[^"]+)"', page).group(1)
    assert "topic=ai" in unescape(link)
    second = html(client.get("/" + unescape(link)))
    assert f"Story number {PER_PAGE + 1:03d}" in second and "Off topic" not in second


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


# --- query budgets ---------------------------------------------------------------------


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
        "/providers/budget-example-com/",
        "/search/?q=story",
        "/?topic=ai&provider=budget-example-com&exclude_provider=muted-example-com&min_quality=0&since=2020-01-01",
        "/archive/2024/05/01/",
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
        refresh_counts()

    add(1, 0)
    one = count_queries(client, url)
    add(59, 1)
    sixty = count_queries(client, url)
    assert one == sixty, (one, sixty)
    assert sixty <= MAX_QUERIES


def test_a_deep_page_costs_the_same_as_the_first(client):
    make_many(PER_PAGE * 3, topics=["AI"])
    first = html(client.get("/"))
    cursor = re.search(r'rel="next" href="\?after=([0-9.]+)"', first).group(1)
    second = html(client.get(f"/?after={cursor}"))
    deeper = re.search(r'rel="next" href="\?after=([0-9.]+)"', second).group(1)
    assert count_queries(client, "/") == count_queries(client, f"/?after={deeper}")


def test_story_page_costs_the_same_for_1_and_50_coverage_items(client):
    small = make_story("Small story", topics=["AI"], coverage=[{}])
    big = make_story("Big story", topics=["AI", "ML"], coverage=[{} for _ in range(50)])
    make_story("Related story", topics=["AI"])
    refresh_counts()
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
    refresh_counts()
    cold = count_queries(client, url)
    with CaptureQueriesContext(connection) as queries:
        page = html(client.get(url + "?warm=1"))
    assert len(queries) == 1 < cold, [query["sql"] for query in queries.captured_queries]
    assert "Story 4" in page and "Story 0" in page


# --- story page ------------------------------------------------------------------------


@pytest.fixture
def covered_story():
    """A headline at noon and coverage around it, one outlet with three items."""
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    early = make_provider("early.example.com", "Early Bird")
    late = make_provider("late.example.com", "Late Riser")
    many = make_provider("many.example.com", "Many Items")
    same = make_provider("same.example.com", "Same Time")
    story = make_story(
        "The headline",
        provider=globe,
        published_at=BASE_TIME,
        lead={"amp_url": "https://bostonglobe.com/amp/1", "web_url": "https://bostonglobe.com/news/headline"},
        topics=["AI"],
        coverage=[
            {"title": "Late coverage", "provider": late, "published_at": BASE_TIME + hours(2), "quality": 70},
            {"title": "Many: best", "provider": many, "published_at": BASE_TIME + timedelta(days=3), "quality": 90},
            {"title": "Early coverage", "provider": early, "published_at": BASE_TIME - hours(4), "quality": 40},
            {"title": "Many: weaker", "provider": many, "published_at": BASE_TIME - hours(1), "quality": 10},
            {"title": "Many: weakest", "provider": many, "published_at": BASE_TIME + hours(1), "quality": 5},
            {"title": "Same time coverage", "provider": same, "published_at": BASE_TIME + timedelta(seconds=20)},
            {"title": "Late by minutes", "provider": globe, "published_at": BASE_TIME + timedelta(minutes=25)},
        ],
    )
    return story


def test_story_page_shows_the_headline_and_links_out(client, covered_story):
    page = html(client.get(covered_story.get_absolute_url()))
    assert "<h1" in page and page.count("<h1") == 1 and ">The headline</h1>" in page
    assert (
        '<a class="button external" href="https://bostonglobe.com/news/headline" rel="external noopener">'
        "Read the full article at The Boston Globe" in page
    )
    assert 'href="https://bostonglobe.com/amp/1" rel="external noopener">Lite version (AMP)' in page
    assert 'href="/topics/ai/">AI</a>' in page
    assert "<title>The headline · Newsreader</title>" in page
    assert '<meta property="og:type" content="website">' in page
    for href in re.findall(r'<a [^>]*href="(https?://[^"]+)"[^>]*>', page):
        tag = re.search(rf'<a [^>]*href="{re.escape(href)}"[^>]*>', page).group(0)
        assert 'rel="external noopener"' in tag, tag


def test_coverage_by_quality_folds_repeats_of_an_outlet(client, covered_story):
    page = text(client.get(covered_story.get_absolute_url()))
    assert in_order(page, "Many: best", "Late coverage", "Early coverage")
    assert "+2 more from this outlet" in page
    assert in_order(page, "+2 more from this outlet", "Many: weaker", "Many: weakest")
    assert "Coverage by 5 outlets" in page
    assert "Quality 90" in page


def test_coverage_timeline_orders_by_time_with_leads_and_lags(client, covered_story):
    page = text(client.get(covered_story.get_absolute_url() + "?order=time"))
    assert in_order(
        page,
        "First to report: Early Bird",
        "Early coverage",
        "Headline article",
        "Same time coverage",
        "Late by minutes",
        "Late coverage",
        "Many: best",
    )
    assert "4 h earlier" in page
    assert "same time" in page
    assert "25 min later" in page
    assert "2 h later" in page
    assert "3 days later" in page
    assert "1 h earlier" in page  # a folded item keeps its own lag
    assert "(4 h earlier than the headline article)" in page


def test_coverage_order_toggle_marks_the_current_order(client, covered_story):
    page = html(client.get(covered_story.get_absolute_url()))
    assert re.search(r'<a href="[^"]*"\s+aria-current="true">By quality</a>', page)
    page = html(client.get(covered_story.get_absolute_url() + "?order=time"))
    assert re.search(r'<a href="\?order=time"\s+aria-current="true">By time', page)


def test_wrong_slug_redirects_permanently_to_the_canonical_url(client, covered_story):
    url = covered_story.get_absolute_url()
    response = client.get(f"/story/{covered_story.pk}-an-old-title/?order=time")
    assert response.status_code == 301 and response["Location"] == f"{url}?order=time"
    response = client.get(f"/story/{covered_story.pk}/")
    assert response.status_code == 301 and response["Location"] == url
    assert client.get("/story/999999-nothing/").status_code == 404


def test_story_page_jsonld_is_a_collection_of_each_outlets_article(client, covered_story):
    page = html(client.get(covered_story.get_absolute_url()))
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    data = json.loads(block)
    assert data["@type"] == "CollectionPage"
    assert data["url"] == f"http://testserver{covered_story.get_absolute_url()}"
    assert "publisher" not in data and "author" not in data
    items = data["mainEntity"]["itemListElement"]
    assert data["mainEntity"]["@type"] == "ItemList" and len(items) == 6  # the headline and one per outlet
    first = items[0]["item"]
    assert first["@type"] == "NewsArticle" and first["url"] == "https://bostonglobe.com/news/headline"
    assert first["publisher"] == {
        "@type": "Organization",
        "name": "The Boston Globe",
        "url": "https://bostonglobe.com/",
    }
    assert first["datePublished"] == "2024-05-01T12:00:00+00:00"
    assert [item["position"] for item in items] == list(range(1, 7))
    assert {item["item"]["publisher"]["name"] for item in items} >= {"Early Bird", "Many Items", "Late Riser"}


def test_related_stories_share_a_topic_and_are_published(client):
    story = make_story("Main story", topics=["AI"])
    make_story("Related one", topics=["AI"], published_at=BASE_TIME - hours(1))
    make_story("Unrelated", topics=["Robots"])
    make_story("Related draft", topics=["AI"], published=False)
    for n in range(6):
        make_story(f"Older related {n}", topics=["AI"], published_at=BASE_TIME - hours(10 + n))
    page = text(client.get(story.get_absolute_url()))
    assert "More on AI" in page
    assert "Related one" in page and "Unrelated" not in page and "Related draft" not in page
    assert "Older related 3" in page and "Older related 4" not in page  # five at most, newest first


def test_story_without_coverage_says_so(client):
    story = make_story("Lonely story")
    assert "No other outlet has covered this story yet." in text(client.get(story.get_absolute_url()))


# --- drafts --------------------------------------------------------------------------------


def test_drafts_are_invisible_to_visitors_everywhere(client, draft):
    make_story("Published neighbour", topics=["AI"], provider=draft.lead.provider)
    refresh_counts()
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(f"/story/{draft.pk}/").status_code == 404
    assert client.get(f"/story/{draft.pk}-other-slug/").status_code == 404
    provider = draft.lead.provider.slug
    for url in [
        "/",
        "/?sort=top",
        "/topics/",
        "/topics/ai/",
        "/providers/",
        f"/providers/{provider}/",
        "/search/?q=quantum",
        "/search/?q=secret+draft",
        "/archive/2024/05/01/",
        "/sitemap-stories.xml",
        "/feeds/latest.rss",
        "/feeds/topics/ai.atom",
        f"/feeds/providers/{provider}.rss",
        "/feeds/search.rss?q=quantum",
    ]:
        body = client.get(url).content.decode()
        assert "Secret draft" not in body and "Draft coverage item" not in body, url
        assert "never-shown-secured-value" not in body, url
        assert f"/story/{draft.pk}-" not in body, url
    assert "1 story on this topic" in text(client.get("/topics/ai/"))


def test_drafts_do_not_count(client, draft):
    assert client.get("/topics/ai/").status_code == 404  # its only story is a draft
    assert 'href="/topics/ai/"' not in html(client.get("/topics/"))
    assert client.get(f"/providers/{draft.lead.provider.slug}/").status_code == 404


def test_staff_see_a_draft_with_a_banner_an_admin_link_and_no_caching(staff_client, draft):
    response = staff_client.get(draft.get_absolute_url())
    page = html(response)
    assert "Draft: not published." in page and "Secret draft about quantum chips" in page
    assert f'href="{reverse("admin:stories_story_change", args=[draft.pk])}"' in page
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control
    assert "never-shown-secured-value" not in page
    redirect = staff_client.get(f"/story/{draft.pk}-old-slug/")
    assert redirect.status_code == 301 and "no-store" in redirect["Cache-Control"]


def test_staff_see_published_stories_with_an_edit_link_uncached(staff_client):
    story = make_story("Published story")
    response = staff_client.get(story.get_absolute_url())
    page = html(response)
    assert "Draft: not published" not in page and "Edit this story in the admin" in page
    assert "no-store" in response["Cache-Control"]


def test_staff_do_not_see_drafts_in_lists(staff_client, draft):
    page = html(staff_client.get("/"))
    assert "Secret draft" not in page
    assert "1 draft is waiting" in text(staff_client.get("/"))
    assert 'href="/admin/stories/story/?published__exact=0"' in page


def test_visitors_get_no_draft_notice(client, draft):
    make_story("Published")
    assert "draft" not in text(client.get("/")).lower()


# --- topics and outlets ---------------------------------------------------------------------


def test_topic_index_shows_counts_of_published_stories(client):
    make_story("One", topics=["AI", "Robots"])
    make_story("Two", topics=["AI"])
    make_story("Hidden", topics=["Robots", "Secrets"], published=False)
    refresh_counts()
    page = text(client.get("/topics/"))
    assert "AI 2 stories" in page and "Robots 1 story" in page
    assert "Secrets" not in page
    assert in_order(page, "AI 2 stories", "Robots 1 story")


def test_topic_page_lists_its_stories_with_feeds(client):
    make_story("On topic", topics=["AI"])
    make_story("Off topic", topics=["Robots"])
    refresh_counts()
    response = client.get("/topics/ai/")
    page = html(response)
    assert "On topic" in page and "Off topic" not in page
    assert "<h1>AI</h1>" in page
    assert (
        'href="http://testserver/feeds/topics/ai.rss"' in page
        and 'href="http://testserver/feeds/topics/ai.atom"' in page
    )
    assert 'name="topic"' not in page  # the topic page has no topic filter
    assert client.get("/topics/nothing/").status_code == 404


def test_provider_index_and_page(client):
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    tc = make_provider("techcrunch.com", "TechCrunch")
    tnw = make_provider("thenextweb.com", "The Next Web")
    quiet = make_provider("quiet.example.com", "Quiet Outlet")
    make_story("Globe leads 1", provider=globe, coverage=[{"provider": tc}, {"provider": tnw}])
    make_story("Globe leads 2", provider=globe, coverage=[{"provider": tc}], published_at=BASE_TIME - hours(1))
    make_story("TechCrunch leads", provider=tc, coverage=[{"provider": globe}], published_at=BASE_TIME - hours(2))
    make_story("Quiet draft", provider=quiet, published=False)
    refresh_counts()
    index = text(client.get("/providers/"))
    assert "The Boston Globe bostonglobe.com 2 1" in index
    assert "TechCrunch techcrunch.com 1 2" in index
    assert "The Next Web thenextweb.com 0 1" in index
    assert "Quiet Outlet" not in index
    assert in_order(index, "The Boston Globe", "TechCrunch", "The Next Web")

    page = text(client.get("/providers/bostonglobe-com/"))
    led, covered = page.index("Stories The Boston Globe led"), page.index("Latest stories it covered")
    beside = page.index("Often beside it")
    assert led < page.index("Globe leads 1") < page.index("Globe leads 2") < covered
    assert covered < page.index("TechCrunch leads") < beside
    assert "TechCrunch 3 stories" in page[beside:] and "The Next Web 1 story" in page[beside:]
    assert in_order(page[beside:], "TechCrunch", "The Next Web")
    assert client.get("/providers/quiet-example-com/").status_code == 404
    assert client.get("/providers/nobody/").status_code == 404


def test_provider_index_pages_through_every_outlet_once(client, monkeypatch):
    monkeypatch.setattr("stories.views.PROVIDERS_PER_PAGE", 2)
    for n in range(5):
        provider = make_provider(f"p{n}.example.com", f"Outlet P{n}")
        for _ in range(n % 3 + 1):
            make_story(provider=provider)
    refresh_counts()
    seen, url = [], "/providers/"
    while url:
        page = html(client.get(url))
        seen += re.findall(r"Outlet P\d", page)
        found = re.search(r'<a rel="next" href="(\?[^"]+)"', page)
        url = "/providers/" + unescape(found.group(1)) if found else None
    assert seen == ["Outlet P2", "Outlet P1", "Outlet P4", "Outlet P0", "Outlet P3"]  # most led first, then by id


def test_cached_cards_get_a_fresh_relative_time(django_assert_num_queries):
    from stories.views import story_cards

    story = Story.objects.for_card_keys().get(pk=make_story("Cached card", topics=["AI"]).pk)
    with django_assert_num_queries(2):  # the card missing from the cache: the story whole, its topics
        first = story_cards([story], now=BASE_TIME + hours(3))[0]
    with django_assert_num_queries(0):
        later = story_cards([story], now=BASE_TIME + timedelta(days=2))[0]
    assert '<span class="reltime">3 hours ago</span>' in first
    assert '<span class="reltime">2 days ago</span>' in later
    assert first.replace("3 hours ago", "2 days ago") == later


# --- search and filters ------------------------------------------------------------------------


def test_search_needs_every_word_in_any_case_in_leads_or_coverage(client):
    make_story("Amazon bans face recognition", lead={"excerpt": "Police use is paused."})
    make_story("Microsoft news", coverage=[{"title": "Amazon follows", "excerpt": "Police in Seattle"}])
    make_story("Unrelated story about amazon")
    page = text(client.get("/search/?q=AMAZON police"))
    assert "Amazon bans face recognition" in page and "Microsoft news" in page
    assert "Unrelated story" not in page
    assert "Search: “AMAZON police”" in page
    assert "No story holds all these words" in text(client.get("/search/?q=zebra"))


def test_empty_search_shows_a_prompt(client):
    make_story("Anything")
    page = text(client.get("/search/"))
    assert "Type one or more words" in page and "Anything" not in page


@pytest.fixture
def filter_data():
    a = make_provider("a.example.com", "Alpha")
    b = make_provider("b.example.com", "Beta")
    make_story("Alpha on AI", provider=a, topics=["AI"], quality=80, category="news", published_at=BASE_TIME)
    make_story(
        "Beta on AI covered by Alpha",
        provider=b,
        topics=["AI"],
        quality=30,
        category="news",
        coverage=[{"provider": a}],
        published_at=BASE_TIME - timedelta(days=2),
    )
    make_story("Beta video", provider=b, topics=["Robots"], lead={"type": "video"}, category="business")
    refresh_counts()


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("topic=ai", ["Alpha on AI", "Beta on AI covered by Alpha"], ["Beta video"]),
        ("provider=a-example-com", ["Alpha on AI", "Beta on AI covered by Alpha"], ["Beta video"]),
        ("exclude_provider=b-example-com", ["Alpha on AI"], ["Beta on AI covered by Alpha", "Beta video"]),
        ("category=NEWS", ["Alpha on AI", "Beta on AI covered by Alpha"], ["Beta video"]),
        ("type=video", ["Beta video"], ["Alpha on AI", "Beta on AI covered by Alpha"]),
        ("min_quality=50", ["Alpha on AI"], ["Beta on AI covered by Alpha", "Beta video"]),
        ("since=2024-05-01", ["Alpha on AI", "Beta video"], ["Beta on AI covered by Alpha"]),
        ("until=2024-04-30", ["Beta on AI covered by Alpha"], ["Alpha on AI", "Beta video"]),
        ("topic=ai&exclude_provider=a-example-com", ["Beta on AI covered by Alpha"], ["Alpha on AI", "Beta video"]),
        ("since=0001-01-01&until=9999-12-31", ["Alpha on AI", "Beta on AI covered by Alpha", "Beta video"], []),
    ],
)
def test_filters(client, filter_data, query, shown, hidden):
    page = text(client.get(f"/?{query}"))
    for title in shown:
        assert title in page, title
    for title in hidden:
        assert title not in page, title
    assert "Remove the filter" in page


def test_filters_on_search_and_topic_pages(client, filter_data):
    page = text(client.get("/search/?q=beta&topic=ai"))
    assert "Beta on AI covered by Alpha" in page and "Beta video" not in page
    page = text(client.get("/topics/ai/?exclude_provider=b-example-com"))
    assert "Alpha on AI" in page and "Beta on AI" not in page


def test_active_filters_show_as_chips_with_remove_links(client, filter_data):
    page = html(client.get("/?topic=ai&exclude_provider=b-example-com&sort=top"))
    assert "Topic: <strong>AI</strong>" in page and "Mute an outlet: <strong>Beta</strong>" in page
    assert 'href="?exclude_provider=b-example-com&amp;sort=top">Remove' in page
    assert 'href="?topic=ai&amp;sort=top">Remove' in page
    assert 'href="/?sort=top">Clear all filters</a>' in page
    feed = re.search(r'<link rel="alternate" type="application/rss\+xml"[^>]*href="([^"]+)"', page).group(1)
    assert unescape(feed) == "http://testserver/feeds/search.rss?topic=ai&exclude_provider=b-example-com"


def test_removing_a_filter_drops_the_forms_empty_fields(client, filter_data):
    # What the filter form sends: every field, most of them empty.
    page = html(client.get("/topics/ai/?provider=&exclude_provider=b-example-com&category=&type=&since=&min_quality="))
    assert 'href="/topics/ai/">Remove' in page  # the last filter: back to the plain page, no "?provider=&…"
    page = html(client.get("/?topic=ai&provider=&category=NEWS&type="))
    assert 'href="?category=NEWS">Remove' in page
    assert 'href="?topic=ai">Remove' in page


@pytest.mark.parametrize(
    "query",
    [
        "topic=nope",
        "provider=nobody",
        "min_quality=abc",
        "min_quality=-3",
        "since=yesterday",
        "since=2024-05-02&until=2024-05-01",
    ],
)
def test_invalid_filters_show_errors_not_500(client, filter_data, query):
    response = client.get(f"/?{query}")
    page = html(response)
    assert 'class="error"' in page and 'aria-invalid="true"' in page
    assert '<details class="filters" open>' in page


def test_the_filter_form_marks_the_chosen_outlet_and_topic(client, filter_data):
    page = html(client.get("/?provider=b-example-com&topic=robots"))
    assert '<option value="b-example-com" selected>Beta</option>' in page
    assert '<option value="robots" selected>Robots</option>' in page
    assert '<option value="a-example-com">Alpha</option>' in page
    assert page.count(" selected>") == 2


def test_a_search_keeps_its_own_query_in_the_filter_form_once_the_fields_are_cached(client, filter_data):
    first = html(client.get("/search/?q=alpha"))
    second = html(client.get("/search/?q=beta"))  # the fields come from the cache; the query does not
    assert '<input type="hidden" name="q" value="alpha">' in first
    assert '<input type="hidden" name="q" value="beta">' in second and 'value="alpha"' not in second
    assert first.count('<option value="a-example-com">Alpha</option>') == 2  # outlet and mute-an-outlet


def test_the_cached_filter_form_lists_an_outlet_new_since_it_was_cached(client, filter_data):
    from stories.signals import content_changed

    assert '<option value="a-example-com">Alpha</option>' in html(client.get("/?warm=1"))
    make_story("Gamma story", provider=make_provider("c.example.com", "Gamma"))
    refresh_counts()
    content_changed.send(sender=None)  # what an import, a publish or an unpublish sends
    page = html(client.get("/?warm=2"))
    assert '<option value="c-example-com">Gamma</option>' in page and "Gamma story" in page


# --- archive --------------------------------------------------------------------------------------


def test_day_archive_lists_the_day_with_previous_and_next_days(client):
    make_story("Before", published_at=datetime(2024, 4, 28, 9, 0, tzinfo=UTC))
    make_story("Early that day", published_at=datetime(2024, 5, 1, 0, 0, tzinfo=UTC))
    make_story("Late that day", published_at=datetime(2024, 5, 1, 23, 59, tzinfo=UTC))
    make_story("After", published_at=datetime(2024, 5, 3, 9, 0, tzinfo=UTC))
    make_story("Draft after", published_at=datetime(2024, 5, 2, 9, 0, tzinfo=UTC), published=False)
    response = client.get(reverse("stories:day_archive", args=[2024, 5, 1]))
    page = html(response)
    assert reverse("stories:day_archive", args=[2024, 5, 1]) == "/archive/2024/05/01/"
    assert "Stories of Wednesday 1 May 2024" in page
    assert in_order(text(response), "Late that day", "Early that day")
    assert "Before<" not in page and ">After<" not in page
    assert 'href="/archive/2024/04/28/">' in page and "Previous day: 28 April 2024" in page
    assert 'href="/archive/2024/05/03/">' in page and "Next day: 3 May 2024" in page
    assert client.get("/archive/2024/5/1/").status_code == 200
    assert client.get("/archive/2024/05/02/").status_code == 404  # only a draft that day
    assert client.get("/archive/2024/02/30/").status_code == 404
    assert client.get("/archive/2024/13/01/").status_code == 404
    assert client.get("/archive/9999/12/31/").status_code == 404
    assert client.get("/archive/0000/01/01/").status_code == 404


# --- safety ----------------------------------------------------------------------------------------


def test_markup_in_titles_and_excerpts_renders_as_text(client):
    hostile = make_provider("hostile.example.com", "<i>Hostile</i> Outlet")
    story = make_story(
        "<script>alert('title')</script> Hostile <img src=x onerror=alert(1)>",
        provider=hostile,
        topics=["<b>Topic</b>"],
        lead={"excerpt": 'An excerpt with <svg onload=alert(2)> and "quotes"</script>'},
        coverage=[{"title": "<img src=x onerror=alert(3)>", "excerpt": '"><script>alert(4)</script>'}],
    )
    refresh_counts()
    for url in ["/", story.get_absolute_url(), story.get_absolute_url() + "?order=time", "/search/?q=hostile"]:
        page = html(client.get(url))
        assert "<script>alert" not in page, url
        assert "<img src=x" not in page and "<svg onload" not in page and "<i>Hostile" not in page, url
        assert "&lt;script&gt;alert(" in page or "\\u003Cscript\\u003E" in page, url
    page = html(client.get(story.get_absolute_url()))
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block and ">" not in block
    assert json.loads(block)["name"].startswith("<script>")


def test_only_http_urls_become_links_or_pictures(client):
    story = make_story(
        "Dangerous links",
        lead={"web_url": "https://safe.example.com/1", "amp_url": "https://safe.example.com/amp"},
        image={"url": "javascript:alert(1)", "width": 10, "height": 10},
        coverage=[{"title": "Coverage with a bad link"}],
    )
    Article.objects.filter(pk=story.lead_id).update(web_url="javascript:alert(1)", amp_url="data:text/html,x")
    coverage = story.coverage_items.get().article
    Article.objects.filter(pk=coverage.pk).update(web_url="JavaScript:alert(2)")
    make_story("Picture with data URL", image={"url": "data:image/svg+xml,<svg onload=alert(5)>", "width": 1})
    for url in ["/", story.get_absolute_url()]:
        page = html(client.get(url)).lower()
        assert "javascript:" not in page and "data:" not in page, url
    page = text(client.get(story.get_absolute_url()))
    assert "Coverage with a bad link" in page  # shown as text, not as a link


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("http://example.com", "http://example.com"),
        ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
        ("javascript:alert(1)", ""),
        (" javascript:alert(1)", ""),
        ("java\tscript:alert(1)", ""),
        ("data:text/html,x", ""),
        ("//example.com/x", ""),
        ("/relative", ""),
        ("https://", ""),
        ("https://exa mple.com", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_safe_url(value, expected):
    assert safe_url(value) == expected


def test_jsonld_escapes_what_could_close_the_script():
    assert str(jsonld({"a": "</script><b>&"})) == '{"a":"\\u003C/script\\u003E\\u003Cb\\u003E\\u0026"}'


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=30), "same time"),
        (timedelta(seconds=-59), "same time"),
        (timedelta(minutes=25), "25 min later"),
        (-timedelta(minutes=59), "59 min earlier"),
        (hours(4), "4 h later"),
        (-hours(4), "4 h earlier"),
        (hours(47), "47 h later"),
        (hours(49), "2 days later"),
        (-timedelta(days=3, hours=5), "3 days earlier"),
    ],
)
def test_lead_lag(delta, expected):
    assert lead_lag(BASE_TIME + delta, BASE_TIME) == expected


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


# --- sitemap, robots, errors, static ----------------------------------------------------------------------


def sitemap_locations(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert b"news:" not in response.content  # plain sitemaps, not Google News ones
    return [loc.text for loc in ET.fromstring(response.content).iter(f"{{{SITEMAP_NS['s']}}}loc")]


def test_sitemap_index_and_sections_list_published_stories_topics_and_outlets(client, draft):
    story = make_story("Published story", topics=["AI"])
    refresh_counts()
    index = sitemap_locations(client, "/sitemap.xml")
    assert index == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-stories.xml",
        "http://testserver/sitemap-topics.xml",
        "http://testserver/sitemap-providers.xml",
    ]
    locations = [
        loc for section in index for loc in sitemap_locations(client, section.removeprefix("http://testserver"))
    ]
    assert f"http://testserver{story.get_absolute_url()}" in locations
    assert "http://testserver/topics/ai/" in locations
    assert f"http://testserver/providers/{story.lead.provider.slug}/" in locations
    assert "http://testserver/" in locations and "http://testserver/topics/" in locations
    assert not any(f"/story/{draft.pk}-" in location for location in locations)
    assert client.get("/sitemap-nothing.xml").status_code == 404
    assert client.get("/sitemap-stories.xml?p=2").status_code == 404


def test_story_sitemaps_are_paged_in_the_index(client, settings, monkeypatch):
    monkeypatch.setattr("stories.sitemaps.StorySitemap.limit", 2)
    settings.SITE_URL = "https://news.example.com"
    make_many(5)
    index = sitemap_locations(client, "/sitemap.xml")
    assert [loc for loc in index if "stories" in loc] == [
        "https://news.example.com/sitemap-stories.xml",
        "https://news.example.com/sitemap-stories.xml?p=2",
        "https://news.example.com/sitemap-stories.xml?p=3",
    ]
    third = sitemap_locations(client, "/sitemap-stories.xml?p=3")
    assert len(third) == 1 and third[0].startswith("https://news.example.com/story/")


@pytest.mark.parametrize("url", ["/sitemap.xml", "/sitemap-stories.xml", "/sitemap-providers.xml"])
def test_sitemaps_cost_a_fixed_number_of_queries(client, url):
    make_many(3, topics=["AI"])
    refresh_counts()
    few = count_queries(client, url)
    make_many(30, topics=["ML"])
    refresh_counts()
    assert count_queries(client, url) == few <= MAX_QUERIES


def test_robots_txt_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()


def test_404_page_is_friendly_and_in_the_layout(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page and 'class="skip-link"' in page and "css/site." in page


def test_500_page_renders_without_any_context():
    page = get_template("500.html").render()
    assert "<h1>Something went wrong</h1>" in page and "css/site." in page


def test_no_inline_scripts_or_styles_for_the_content_security_policy(client, covered_story):
    for url in ["/", covered_story.get_absolute_url(), "/?min_quality=x"]:
        page = html(client.get(url))
        scripts = re.findall(r"<script\b([^>]*)>", page)
        assert all("src=" in attrs or 'type="application/ld+json"' in attrs for attrs in scripts), scripts
        assert " style=" not in page and "<style" not in page
        assert " onerror=" not in page and " onclick=" not in page


def test_favicon_ico_redirects_to_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert "favicon" in response["Location"] and response["Location"].endswith(".svg")


def test_related_stories_come_from_around_the_story_s_time(client):
    story = make_story("The story itself", topics=["Robots"], published_at=BASE_TIME)
    make_story("Same topic, two weeks earlier", topics=["Robots"], published_at=BASE_TIME - timedelta(days=14))
    make_story("Same topic, two years earlier", topics=["Robots"], published_at=BASE_TIME - timedelta(days=730))
    make_story("Other topic, same day", topics=["Finance"], published_at=BASE_TIME)
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Same topic, two weeks earlier" in page
    assert "Same topic, two years earlier" not in page
    assert "Other topic, same day" not in page
