"""The reader site: list pages, story pages, topic and outlet pages, search, archive, robots.txt.

Views stay thin: ``visible_stories()`` is the one place that decides what a
request may see (published stories; drafts too on a story's own URL for staff),
``StoryFilter`` filters, ``KeysetPaginator`` pages, ``story_cards()`` renders
(and caches) story cards.

Query budget of a public page (tests hold it): at most 5 with every cache
cold, whatever the number of stories, outlets, topics or coverage items. A
list page reads its page of stories narrowly (ids, times, sort keys); the
cards missing from the card cache are then loaded whole with their topics (2),
and a filter form not yet cached reads the topic and outlet directories (2).
With those caches warm, a list page costs one query. Anonymous pages are also
cached whole (stories.caching).
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from stories.caching import cache_public_page, generation
from stories.context_processors import absolute_url
from stories.filters import StoryFilter, find_topic, topic_directory
from stories.models import Article, Coverage, Provider, Story, Topic
from stories.pagination import LEAD_NEWEST, NEWEST, TOP, Key, KeysetPaginator
from stories.search import MAX_QUERY_LENGTH, SEARCH_KEYS
from stories.templatetags.reader import day_label, lead_lag, relative_time, safe_url

PER_PAGE = 30
PROVIDERS_PER_PAGE = 100
COVERED_LIST_SIZE = 10  # an outlet page's "latest stories it covered"
BESIDE_WINDOW = 200  # an outlet page's "appears beside" looks at the stories of its latest 200 articles
BESIDE_SIZE = 8
RELATED_SIZE = 5
RELATED_WINDOW = datetime.timedelta(days=365)
EXCERPT_WORDS = 60  # description meta tags

# --- who sees what -----------------------------------------------------------


def visible_stories(request, *, preview=False):
    """The stories ``request`` may see: published ones; with ``preview``, drafts too for staff.

    Only the story page passes ``preview``: drafts never reach a list, a count,
    a feed, a search, an archive or the sitemap, even for staff.
    """
    if preview and request.user.is_staff:
        return Story.objects.all()
    return Story.objects.published()


def private_response(response):
    """A response made for one staff member: never stored by any cache."""
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response


# --- story cards --------------------------------------------------------------

CARD_TEMPLATE = "includes/story_card.html"
CARD_SECONDS = 600
RELTIME_MARK = "<!--reltime-->"  # data is escaped, so this can only come from the template


def story_cards(stories, *, heading="h3", now=None):
    """Rendered story cards for ``stories``, in order, from the cache where possible.

    A card is cached by story, update time, heading level and the content
    generation (any import or publish renews every card); it holds no
    per-request state: its relative time ("3 hours ago") is put in here, and the
    first picture of the page loses ``loading="lazy"``. The stories need only
    their id, update and publication times (``for_card_keys()``): the cards
    missing from the cache are loaded whole, with their topics, in two queries.
    """
    if not stories:
        return []
    now = now or timezone.now()
    prefix = f"card:{generation()}"
    keys = {story.pk: f"{prefix}:{story.pk}:{story.updated_at.timestamp()}:{heading}" for story in stories}
    found = cache.get_many(list(keys.values()))
    missing = [story.pk for story in stories if keys[story.pk] not in found]
    if missing:
        # By primary key, not through the list's filters: SQLite would walk the published index instead.
        loaded = Story.objects.for_cards().prefetch_related("topics").in_bulk(missing)
        card = get_template(CARD_TEMPLATE)
        fresh = {keys[pk]: str(card.render({"story": story, "heading": heading})) for pk, story in loaded.items()}
        cache.set_many(fresh, CARD_SECONDS)
        found.update(fresh)
    cards, eager = [], True
    for story in stories:
        html = found.get(keys[story.pk])
        if html is None:  # deleted since the list was read
            cards.append("")
            continue
        html = html.replace(RELTIME_MARK, escape(relative_time(story.published_at, now)), 1)
        if eager and ' loading="lazy"' in html:
            html, eager = html.replace(' loading="lazy"', "", 1), False
        # Safe: rendered by our own template with autoescaping.
        cards.append(mark_safe(html))  # noqa: S308  # nosec
    return cards


def day_groups(stories, cards, now):
    """Cards under day headings ("Today", "Yesterday", dates) in the site's time zone."""
    today = timezone.localdate(now)
    groups = []
    for story, card in zip(stories, cards, strict=True):
        day = timezone.localdate(story.published_at)
        if not groups or groups[-1]["day"] != day:
            groups.append({"day": day, "label": day_label(day, today), "cards": []})
        groups[-1]["cards"].append(card)
    return groups


# --- page metadata ------------------------------------------------------------

LIST_PARAMS = ("q", "sort", *StoryFilter.base_filters, "after", "before")


def canonical_url(request, keep=LIST_PARAMS, path=None):
    """The page's absolute URL with only the parameters that change its content, in a fixed order."""
    params = [(name, request.GET[name]) for name in keep if request.GET.get(name)]
    query = f"?{urlencode(params)}" if params else ""
    return absolute_url(request, f"{path or request.path}{query}")


def feed_links(request, title, rss_name, atom_name, kwargs=None, query=""):
    rss = reverse(f"stories:{rss_name}", kwargs=kwargs)
    atom = reverse(f"stories:{atom_name}", kwargs=kwargs)
    return [
        {"title": f"{title} (RSS)", "type": "application/rss+xml", "url": absolute_url(request, rss + query)},
        {"title": f"{title} (Atom)", "type": "application/atom+xml", "url": absolute_url(request, atom + query)},
    ]


def filter_query(request):
    """The search and filter parameters of a list, for a saved-search feed URL ("" when there are none)."""
    params = [(name, request.GET[name]) for name in ("q", *StoryFilter.base_filters) if request.GET.get(name)]
    return f"?{urlencode(params)}" if params else ""


def filter_data(request):
    """The request's parameters for a StoryFilter, or None when it names no filter.

    An unbound filter set builds no form unless its template needs one, and the
    template caches the fields of an unfiltered list's form (the same for every reader).
    """
    return request.GET if request.GET.keys() & StoryFilter.base_filters.keys() else None


def filter_chips(request, filterset):
    """Active filters, each with the URL that removes it (and goes back to the first page).

    The form sends its empty fields too; they are left out, so removing the last filter
    leads back to the plain page.
    """
    chips = []
    for name, label, shown in filterset.active():
        params = [
            (key, value)
            for key, values in request.GET.lists()
            if key not in (name, "after", "before")
            for value in values
            if value
        ]
        remove_url = f"?{urlencode(params)}" if params else request.path
        chips.append({"name": name, "label": label, "value": shown, "remove_url": remove_url})
    return chips


def _paginate_cards(request, queryset, *, keys=NEWEST, grouped=True, heading="h3"):
    page = KeysetPaginator(keys, PER_PAGE).paginate(queryset.for_card_keys(), request.GET)
    now = timezone.now()
    cards = story_cards(page.object_list, heading=heading, now=now)
    if grouped:
        return page, day_groups(page.object_list, cards, now), None
    return page, None, cards


# --- list pages ---------------------------------------------------------------


@require_safe
@cache_public_page
def home(request):
    top = request.GET.get("sort") == "top"
    filterset = StoryFilter(filter_data(request), visible_stories(request))
    page, groups, cards = _paginate_cards(
        request, filterset.qs, keys=TOP if top else NEWEST, grouped=not top, heading="h2" if top else "h3"
    )
    chips = filter_chips(request, filterset)
    query = filter_query(request)
    context = {
        "nav": "top" if top else "latest",
        "top": top,
        "page": page,
        "groups": groups,
        "cards": cards,
        "filterset": filterset,
        "chips": chips,
        "page_title": "Top stories" if top else "Latest stories",
        "description": "News stories with every outlet's coverage side by side: who reported it, who reported first.",
        "canonical_url": canonical_url(request),
        "noindex": bool(chips) or not page.is_first,
        "feeds": feed_links(request, "Stories matching these filters", "search_rss", "search_atom", query=query)
        if query
        else feed_links(request, "Latest stories", "latest_rss", "latest_atom"),
    }
    if request.user.is_staff:
        context["draft_count"] = Story.objects.filter(published=False).count()
        return private_response(render(request, "stories/home.html", context))
    return render(request, "stories/home.html", context)


@require_safe
@cache_public_page
def search(request):
    q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    filterset = StoryFilter(filter_data(request), visible_stories(request))
    chips = filter_chips(request, filterset)
    context = {
        "q": q,
        "filterset": filterset,
        "chips": chips,
        "page": None,
        "page_title": f"Search: {q}" if q else "Search",
        "description": "Search the headlines and excerpts of every story and its coverage.",
        "canonical_url": canonical_url(request),
        "noindex": True,
    }
    if q or chips:
        if q:  # by relevance (PostgreSQL ranks; SQLite's simpler index gives newest first), no day headings
            ranked = connection.vendor == "postgresql"
            context["page"], context["groups"], context["cards"] = _paginate_cards(
                request,
                filterset.qs.search(q),
                # Without a rank (SQLite) the newest-first index order serves, with no sort of every match.
                keys=SEARCH_KEYS if ranked else NEWEST,
                grouped=not ranked,
                heading="h3" if not ranked else "h2",
            )
            context["ranked"] = ranked
        else:
            context["page"], context["groups"], _ = _paginate_cards(request, filterset.qs)
        context["searched"] = True
        query = filter_query(request)
        context["feeds"] = feed_links(request, "Stories matching this search", "search_rss", "search_atom", query=query)
    return render(request, "stories/search.html", context)


@require_safe
@cache_public_page
def topic_list(request):
    topics = sorted(topic_directory(), key=lambda topic: (-topic["story_count"], topic["name"].lower()))
    return render(
        request,
        "stories/topic_list.html",
        {
            "nav": "topics",
            "topics": topics,
            "page_title": "Topics",
            "description": "Every topic with its number of stories.",
            "canonical_url": canonical_url(request, keep=()),
        },
    )


@require_safe
@cache_public_page
def topic_detail(request, slug):
    topic = find_topic(slug)
    if topic is None:  # not in the cached directory: perhaps newer than it
        topic = Topic.objects.filter(slug=slug, story_count__gt=0).values("id", "slug", "name", "story_count").first()
        if topic is None:
            raise Http404("No such topic.")
    stories = visible_stories(request).filter(topics=topic["id"])
    filterset = StoryFilter(filter_data(request), stories, without=("topic",))
    page, groups, _ = _paginate_cards(request, filterset.qs)
    chips = filter_chips(request, filterset)
    query = filter_query(request)
    feeds = feed_links(request, f"Stories on {topic['name']}", "topic_rss", "topic_atom", kwargs={"slug": slug})
    if query:
        query = f"{query}&topic={slug}"
        feeds = (
            feed_links(
                request, f"Stories on {topic['name']} matching these filters", "search_rss", "search_atom", query=query
            )
            + feeds
        )
    return render(
        request,
        "stories/topic_detail.html",
        {
            "nav": "topics",
            "topic": topic,
            "page": page,
            "groups": groups,
            "filterset": filterset,
            "chips": chips,
            "page_title": f"{topic['name']}: stories",
            "description": f"Stories on {topic['name']}, with every outlet's coverage side by side.",
            "canonical_url": canonical_url(request),
            "noindex": bool(chips) or not page.is_first,
            "feeds": feeds,
        },
    )


PROVIDER_KEYS = (Key("led_count"), Key("covered_count"), Key("id", descending=False))


@require_safe
@cache_public_page
def provider_list(request):
    providers = Provider.objects.filter(Q(led_count__gt=0) | Q(covered_count__gt=0))
    page = KeysetPaginator(PROVIDER_KEYS, PROVIDERS_PER_PAGE).paginate(
        providers.only("id", "name", "slug", "domain", "led_count", "covered_count"), request.GET
    )
    return render(
        request,
        "stories/provider_list.html",
        {
            "nav": "providers",
            "page": page,
            "page_title": "Outlets",
            "description": "Every outlet with the number of stories it led and covered.",
            "canonical_url": canonical_url(request, keep=("after", "before")),
            "noindex": not page.is_first,
        },
    )


def appears_beside(provider_slug):
    """Who appears beside an outlet, from ONE query over a bounded window, never the whole table.

    The window is the stories of the outlet's latest ``BESIDE_WINDOW`` articles
    (stories it led or covered), found through the article index (provider,
    -published_at). The query returns (story, published, outlet) rows for the
    leads and coverage of those stories; the outlet itself is among them, which
    gives the page its outlet without another query. Drafts are dropped here,
    not in SQL, so that SQLite keeps to the primary keys instead of scanning the
    published-stories index. Returns (provider dict or None, [(outlet dict,
    shared story count), ...]).
    """
    provider_id = Provider.objects.filter(slug=provider_slug).values("id")[:1]
    articles = Article.objects.filter(provider_id=provider_id).order_by("-published_at").values("id")[:BESIDE_WINDOW]
    window = (
        Story.objects.filter(lead_id__in=articles)
        .order_by()
        .values("pk")
        .union(Coverage.objects.filter(article_id__in=articles).order_by().values("story_id"))
    )
    fields = ("id", "name", "slug", "domain", "led_count", "covered_count")
    leads = (
        Story.objects.filter(pk__in=window)
        .order_by()
        .values_list("pk", "published", *(f"lead__provider__{f}" for f in fields))
    )
    coverage = (
        Coverage.objects.filter(story_id__in=window)
        .order_by()
        .values_list("story_id", "story__published", *(f"article__provider__{f}" for f in fields))
    )
    stories_by_outlet, outlets = {}, {}
    for story_id, published, *values in leads.union(coverage):
        if not published:
            continue
        outlet_id = values[0]
        if outlet_id not in outlets:
            outlets[outlet_id] = dict(zip(fields, values, strict=True))
        stories_by_outlet.setdefault(outlet_id, set()).add(story_id)
    provider = next((outlet for outlet in outlets.values() if outlet["slug"] == provider_slug), None)
    if provider is None:
        return None, []
    beside = sorted(
        ((outlet, len(stories_by_outlet[pk])) for pk, outlet in outlets.items() if pk != provider["id"]),
        key=lambda pair: (-pair[1], pair[0]["name"].lower()),
    )
    return provider, beside[:BESIDE_SIZE]


OUTLET_SUMMARY_SECONDS = 300  # at most: any content change makes a new one at once (the cache generation)


def outlet_summary(slug):
    """An outlet's dict, who appears beside it and the latest stories it covered (led by others).

    Two aggregate queries over big tables, the same for every reader until the
    content changes: kept in the cache under the content generation, like the
    topic and outlet directories. None for an outlet with no published story.
    """
    key = f"outlet:{generation()}:{slug}"
    summary = cache.get(key)
    if summary is not None:
        return summary
    provider, beside = appears_beside(slug)
    if provider is None:  # rare: only its latest articles' stories are drafts (one more query then)
        provider = (
            Provider.objects.filter(slug=slug)
            .filter(Q(led_count__gt=0) | Q(covered_count__gt=0))
            .values("id", "name", "slug", "domain", "led_count", "covered_count")
            .first()
        )
    if provider is None:  # not cached: made-up slugs must not fill the cache
        return None
    covered = (
        Story.objects.published()
        .covered_by(provider["id"])
        .exclude(lead__provider_id=provider["id"])
        .for_cards()
        .newest_first()[:COVERED_LIST_SIZE]
    )
    summary = {"provider": provider, "beside": beside, "covered": list(covered)}
    cache.set(key, summary, OUTLET_SUMMARY_SECONDS)
    return summary


@require_safe
@cache_public_page
def provider_detail(request, slug):
    summary = outlet_summary(slug)
    if summary is None:
        raise Http404("No such outlet, or none of its stories is published.")
    provider, beside = summary["provider"], summary["beside"]
    visible = visible_stories(request)
    page = KeysetPaginator(LEAD_NEWEST, PER_PAGE).paginate(
        visible.filter(lead__provider_id=provider["id"]).select_related("lead").for_card_keys("lead__published_at"),
        request.GET,
    )
    led_stories = page.object_list
    cards = story_cards(led_stories + summary["covered"], heading="h3")
    return render(
        request,
        "stories/provider_detail.html",
        {
            "nav": "providers",
            "provider": provider,
            "page": page,
            "led_cards": cards[: len(led_stories)],
            "covered_cards": cards[len(led_stories) :],
            "beside": beside,
            "beside_window": BESIDE_WINDOW,
            "page_title": f"{provider['name']}: stories it led and covered",
            "description": (
                f"{provider['name']} ({provider['domain']}) led {provider['led_count']} stories "
                f"and covered {provider['covered_count']}."
            ),
            "canonical_url": canonical_url(request, keep=("after", "before")),
            "noindex": not page.is_first,
            "feeds": feed_links(
                request, f"Stories from {provider['name']}", "provider_rss", "provider_atom", kwargs={"slug": slug}
            ),
        },
    )


@require_safe
@cache_public_page
def day_archive(request, year, month, day):
    try:
        date = datetime.date(year, month, day)
        start = datetime.datetime.combine(date, datetime.time.min, tzinfo=timezone.get_current_timezone())
        end = start + datetime.timedelta(days=1)
    except (ValueError, OverflowError):
        raise Http404("No such date.") from None
    visible = visible_stories(request)
    page, _, cards = _paginate_cards(
        request, visible.filter(published_at__gte=start, published_at__lt=end), grouped=False, heading="h2"
    )
    if not page.object_list:
        raise Http404("No stories on this day.")
    newest = ("-published_at", "-id")
    previous = visible.filter(published_at__lt=start).order_by(*newest).values_list("published_at", flat=True)[:1]
    following = (
        visible.filter(published_at__gte=end).order_by("published_at", "id").values_list("published_at", flat=True)[:1]
    )
    previous_day = timezone.localdate(previous[0]) if previous else None
    next_day = timezone.localdate(following[0]) if following else None
    label = f"{date:%A} {date.day} {date:%B %Y}"
    return render(
        request,
        "stories/day_archive.html",
        {
            "date": date,
            "label": label,
            "page": page,
            "cards": cards,
            "previous_day": previous_day,
            "next_day": next_day,
            "page_title": f"Stories of {label}",
            "description": f"The stories published on {label}.",
            "canonical_url": canonical_url(request, keep=("after", "before")),
            "noindex": not page.is_first,
        },
    )


# --- the story page -----------------------------------------------------------


@dataclass
class CoverageRow:
    """One outlet's coverage of a story: its best item, and the others folded under it."""

    provider: object
    best: object
    others: list = field(default_factory=list)


def coverage_rows(story, order):
    """The story's coverage, one row per outlet, ordered by "quality" (default) or "time".

    Best item of an outlet: highest quality, ties to the earliest. Each item gets
    ``lag``: how much earlier or later it came than the headline article.
    """
    lead_time = story.lead.published_at
    by_outlet = {}
    for item in story.coverage_items.all():
        article = item.article
        article.lag = lead_lag(article.published_at, lead_time)
        by_outlet.setdefault(article.provider_id, []).append(article)
    rows = []
    for articles in by_outlet.values():
        ranked = sorted(articles, key=lambda a: (-a.quality, a.published_at, a.pk))
        others = sorted(ranked[1:], key=lambda a: (a.published_at, a.pk))
        rows.append(CoverageRow(provider=ranked[0].provider, best=ranked[0], others=others))
    if order == "time":
        rows.sort(key=lambda row: (row.best.published_at, row.provider.name.lower(), row.best.pk))
    else:
        rows.sort(key=lambda row: (-row.best.quality, row.best.published_at, row.provider.name.lower(), row.best.pk))
    return rows


def related_stories(story):
    """At most five other published stories on the story's topics from around its time, newest first: one query.

    The window (RELATED_WINDOW either side of the story) bounds the index walk of
    ``on_topics`` when the topics are rare, whatever the size of the archive.
    """
    topic_ids = [topic.pk for topic in story.topics.all()]
    if not topic_ids:
        return []
    return list(
        Story.objects.published()
        .filter(
            published_at__gte=story.published_at - RELATED_WINDOW,
            published_at__lte=story.published_at + RELATED_WINDOW,
        )
        .on_topics(topic_ids)
        .exclude(pk=story.pk)
        .select_related("lead__provider")
        .only("id", "slug", "published_at", "lead__title", "lead__provider__name", "lead__provider__slug")
        .newest_first()[:RELATED_SIZE]
    )


def _publisher(article):
    return {"@type": "Organization", "name": article.provider.name, "url": f"https://{article.provider.domain}/"}


def story_jsonld(request, story, canonical, rows):
    """schema.org: a CollectionPage whose ItemList holds each outlet's NewsArticle, credited to its outlet.

    This site publishes the collection, not the articles: each article keeps its
    own URL, headline, date and publisher.
    """
    articles = [story.lead] + [row.best for row in rows]
    elements = []
    for article in articles:
        url = safe_url(article.web_url)
        if not url:
            continue
        item = {
            "@type": "NewsArticle",
            "headline": article.title[:300],
            "url": url,
            "datePublished": article.published_at.isoformat(),
            "publisher": _publisher(article),
        }
        elements.append({"@type": "ListItem", "position": len(elements) + 1, "item": item})
    data = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": story.lead.title[:300],
        "url": canonical,
        "description": _summary(story.lead.excerpt),
        "isPartOf": {"@type": "WebSite", "name": settings.SITE_NAME, "url": absolute_url(request, "/")},
        "mainEntity": {"@type": "ItemList", "numberOfItems": len(elements), "itemListElement": elements},
    }
    image = story.image and safe_url(story.image.get("url"))
    if image:
        data["image"] = image
    return data


def _summary(text, words=EXCERPT_WORDS):
    parts = (text or "").split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


@require_safe
@cache_public_page
def story_detail(request, pk, slug):
    story = get_object_or_404(visible_stories(request, preview=True).for_story_page(), pk=pk)
    path = story.get_absolute_url()
    if request.path != path:
        query = request.META.get("QUERY_STRING", "")
        response = HttpResponsePermanentRedirect(f"{path}?{query}" if query else path)
        return private_response(response) if not story.published else response
    order = "time" if request.GET.get("order") == "time" else "quality"
    rows = coverage_rows(story, order)
    timeline = []
    if order == "time":  # the headline article takes its place in the timeline
        lead_time = story.lead.published_at
        earlier = [row for row in rows if row.best.published_at < lead_time]
        timeline = [*({"row": row} for row in earlier), {"lead": True}]
        timeline += [{"row": row} for row in rows[len(earlier) :]]
    everything = [story.lead] + [item.article for item in story.coverage_items.all()]
    first = min(everything, key=lambda article: (article.published_at, article.pk))
    canonical = absolute_url(request, path)
    image = story.image if story.image and safe_url(story.image.get("url")) else None
    context = {
        "story": story,
        "lead": story.lead,
        "rows": rows,
        "timeline": timeline,
        "order": order,
        "first": first,
        "first_lag": lead_lag(first.published_at, story.lead.published_at),
        "topics": list(story.topics.all()),
        "related": related_stories(story),
        "image": image,
        "jsonld": story_jsonld(request, story, canonical, rows),
        "page_title": story.lead.title,
        "description": _summary(story.lead.excerpt) or f"{story.lead.title}: coverage by {story.outlet_count} outlets.",
        "canonical_url": canonical,
        "og_image": image["url"] if image else "",
        "is_draft": not story.published,
        "noindex": not story.published,
    }
    if request.user.is_staff:
        context["admin_url"] = reverse("admin:stories_story_change", args=[story.pk])
        return private_response(render(request, "stories/story_detail.html", context))
    return render(request, "stories/story_detail.html", context)


@require_safe
@cache_public_page
def story_short(request, pk):
    """/story/<id>/: a short link that leads to the story's full address."""
    story = get_object_or_404(visible_stories(request, preview=True).only("id", "slug", "published"), pk=pk)
    response = HttpResponsePermanentRedirect(story.get_absolute_url())
    return private_response(response) if not story.published else response


# --- robots.txt ---------------------------------------------------------------


@require_safe
@cache_public_page
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        "Disallow: /feeds/search",
        "",
        f"Sitemap: {absolute_url(request, reverse('stories:sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
