"""The reader site's pages: each turns a request into a context and a template.

What a request may see is ``Story.objects.visible_to()``; ``StoryFilter``
filters (stories/filters.py), ``KeysetPaginator`` pages (stories/pagination.py),
``story_cards()`` renders the cards (stories/cards.py). The rest lives with
what it is about: a story's coverage in stories/coverage.py, the topic and
outlet directories and an outlet's aggregates in stories/directories.py,
canonical URLs, feed links and JSON-LD in stories/seo.py.

Query budget of a public page (tests hold it): at most 4 with every cache
cold, whatever the number of stories, outlets, topics or coverage items. A
list page reads its page of stories narrowly (ids, times, sort keys); the
cards missing from the card cache are then loaded whole, their topics in the
same query (1), and a filter form not yet cached reads the topic and outlet
directories, both in one query (1). With those caches warm, a list page costs
one query. Anonymous pages are also
cached whole (stories.caching).
"""

import datetime
import functools
from urllib.parse import urlencode

from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.encoding import uri_to_iri
from django.views.decorators.http import require_safe

from stories.archive import archive_days, by_month, latest_story_day
from stories.caching import cache_public_page, generation
from stories.cards import day_groups, story_cards
from stories.charts import story_timeline_chart, weekly_chart
from stories.context_processors import absolute_url
from stories.coverage import coverage_rows, first_reporter, related_stories, shown_outlets, story_for_page, timeline
from stories.directories import (
    BESIDE_WINDOW,
    covered_stories,
    most_stories_first,
    outlet_summary,
    providers_with_stories,
    topic_directory,
    topic_page,
)
from stories.filters import StoryFilter
from stories.models import Story
from stories.muting import muted_slugs, without_muted_leads
from stories.pagination import LEAD_NEWEST, NEWEST, TOP, Key, KeysetPaginator
from stories.search import (
    MAX_QUERY_LENGTH,
    match_count_label,
    more_than_bound,
    result_keys,
    results_are_ranked,
    snippet,
)
from stories.seo import canonical_url, feed_links, filter_query, meta_description, story_image, story_jsonld

# Read at call time (tests and benchmarks change them).
PER_PAGE = 30
PROVIDERS_PER_PAGE = 100


def private_response(response):
    """A response made for one staff member: never stored by any cache."""
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response


# --- what a list request asks for --------------------------------------------


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
    """(page, day groups or None, cards or None) of a story list: cards under day headings, or a flat list."""
    page = KeysetPaginator(keys, PER_PAGE).paginate(queryset.for_card_keys(), request.GET)
    now = timezone.now()
    cards = story_cards(page.object_list, heading=heading, now=now, muted=muted_slugs(request.GET))
    if grouped:
        return page, day_groups(page.object_list, cards, now), None
    return page, None, cards


# --- list pages ---------------------------------------------------------------


@require_safe
@cache_public_page
def home(request):
    top = request.GET.get("sort") == "top"
    filterset = StoryFilter(filter_data(request), Story.objects.visible_to(request.user))
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


def _search_results(request, matches, q):
    """A page of search results: each card beside its matching text (cards are cached and shared; the
    text is per query), and how many stories matched, counted in the page's own query (``search_count``)."""
    ranked = results_are_ranked()
    page = KeysetPaginator(result_keys(), PER_PAGE).paginate(matches.for_card_keys("search_text"), request.GET)
    now = timezone.now()
    cards = story_cards(page.object_list, heading="h2" if ranked else "h3", now=now, muted=muted_slugs(request.GET))
    results = [
        {"card": card, "snippet": snippet(story.search_text, q)}
        for story, card in zip(page.object_list, cards, strict=True)
    ]
    first = page.object_list[0] if page.object_list else None
    count = first.search_count if first else 0
    more = first is not None and more_than_bound(first)
    return {
        "page": page,
        "ranked": ranked,
        "results": results,
        "groups": None if ranked else day_groups(page.object_list, results, now),
        "match_count": match_count_label(count, more=more, ranked=ranked) if count else "",
    }


@require_safe
@cache_public_page
def search(request):
    q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    filterset = StoryFilter(filter_data(request), Story.objects.visible_to(request.user))
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
        if q:  # ranked results are a flat list by relevance; unranked ones, newest first under day headings
            context.update(_search_results(request, filterset.qs.search(q), q))
        else:
            context["page"], context["groups"], _ = _paginate_cards(request, filterset.qs)
        context["searched"] = True
        query = filter_query(request)
        context["feeds"] = feed_links(request, "Stories matching this search", "search_rss", "search_atom", query=query)
    return render(request, "stories/search.html", context)


@require_safe
@cache_public_page
def topic_list(request):
    topics = most_stories_first(topic_directory())
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
    found = topic_page(slug)
    if found is None:
        raise Http404("No such topic.")
    topic = found["topic"]
    stories = Story.objects.visible_to(request.user).filter(topics=topic["id"])
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
            # Drawn only when the page's cached chart is missing: "chart_key" holds the content generation.
            "weekly_chart": functools.partial(weekly_chart, found["days"]),
            "chart_key": f"topic:{topic['id']}:{generation()}",
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
    page = KeysetPaginator(PROVIDER_KEYS, PROVIDERS_PER_PAGE).paginate(
        providers_with_stories().only("id", "name", "slug", "domain", "led_count", "covered_count"), request.GET
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


def _outlet_page(request, slug, *, covered):
    """An outlet's page: the stories it led (``covered=False``) or those it covered, led by others, paged."""
    summary = outlet_summary(slug)
    if summary is None:
        raise Http404("No such outlet, or none of its stories is published.")
    provider = summary["provider"]
    visible = Story.objects.visible_to(request.user)
    if covered:
        stories = covered_stories(visible, provider).for_card_keys()
        page = KeysetPaginator(NEWEST, PER_PAGE).paginate(stories, request.GET)
    else:
        stories = visible.filter(lead__provider_id=provider["id"]).select_related("lead")
        page = KeysetPaginator(LEAD_NEWEST, PER_PAGE).paginate(stories.for_card_keys("lead__published_at"), request.GET)
    what = "covered" if covered else "led"
    feeds = feed_links(
        request, f"Stories from {provider['name']}", "provider_rss", "provider_atom", kwargs={"slug": slug}
    )
    return render(
        request,
        "stories/provider_detail.html",
        {
            "nav": "providers",
            "provider": provider,
            "covered": covered,
            "page": page,
            "cards": story_cards(page.object_list, heading="h3", muted=muted_slugs(request.GET)),
            "beside": summary["beside"],
            "beside_window": BESIDE_WINDOW,
            "weekly_chart": functools.partial(weekly_chart, summary["days"]),
            "chart_key": f"outlet:{provider['id']}:{generation()}",
            "page_title": f"{provider['name']}: stories it {what}",
            "description": (
                f"{provider['name']} ({provider['domain']}) led {provider['led_count']} stories "
                f"and covered {provider['covered_count']}."
            ),
            "canonical_url": canonical_url(request, keep=("after", "before")),
            "noindex": not page.is_first,
            "feeds": feeds,
        },
    )


@require_safe
@cache_public_page
def provider_detail(request, slug):
    return _outlet_page(request, slug, covered=False)


@require_safe
@cache_public_page
def provider_covered(request, slug):
    """/providers/<slug>/covered/: every story the outlet covered (led by another), newest first."""
    return _outlet_page(request, slug, covered=True)


@require_safe
@cache_public_page
def day_archive(request, year, month, day):
    try:
        date = datetime.date(year, month, day)
        start = datetime.datetime.combine(date, datetime.time.min, tzinfo=timezone.get_current_timezone())
        end = start + datetime.timedelta(days=1)
    except (ValueError, OverflowError):
        raise Http404("No such date.") from None
    visible = Story.objects.visible_to(request.user)
    on_the_day = without_muted_leads(
        visible.filter(published_at__gte=start, published_at__lt=end), muted_slugs(request.GET)
    )
    page, _, cards = _paginate_cards(request, on_the_day, grouped=False, heading="h2")
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


@require_safe
def archive_index(request):
    """/archive/: the year of the newest story (a redirect: the archive has no page of its own)."""
    latest = latest_story_day()
    if latest is None:
        raise Http404("No stories yet.")
    return HttpResponseRedirect(reverse("stories:year_archive", args=[latest.year]))


@require_safe
@cache_public_page
def month_archive(request, year, month):
    found = archive_days(year, month) if 1 <= month <= 12 else None
    if found is None:
        raise Http404("No stories in this month.")
    first = datetime.date(year, month, 1)
    label = f"{first:%B %Y}"
    return render(
        request,
        "stories/month_archive.html",
        {
            "month": first,
            "label": label,
            "days": found["days"],
            "total": sum(count for _day, count in found["days"]),
            "previous_month": found["previous"],
            "next_month": found["next"],
            "page_title": f"Stories of {label}",
            "description": f"Every day of {label} with stories, and how many.",
            "canonical_url": canonical_url(request, keep=(), path=reverse("stories:month_archive", args=[year, month])),
        },
    )


@require_safe
@cache_public_page
def year_archive(request, year):
    found = archive_days(year)
    if found is None:
        raise Http404("No stories in this year.")
    months = by_month(found["days"])
    return render(
        request,
        "stories/year_archive.html",
        {
            "year": year,
            "months": months,
            "total": sum(month["total"] for month in months),
            "previous_year": found["previous"],
            "next_year": found["next"],
            "page_title": f"Stories of {year}",
            "description": f"Every day of {year} with stories, and how many, month by month.",
            "canonical_url": canonical_url(request, keep=()),
        },
    )


# --- the story page -----------------------------------------------------------


@require_safe
@cache_public_page
def story_detail(request, pk, slug):
    # Drafts for staff only, as Story.objects.visible_to(request.user, preview=True) has it.
    story = story_for_page(pk, drafts=request.user.is_staff)
    if story is None:
        raise Http404("No such story.")
    path = story.get_absolute_url()
    if request.path != uri_to_iri(path):  # request.path is decoded; the URL percent-encodes a Unicode slug
        query = request.META.get("QUERY_STRING", "")
        response = HttpResponsePermanentRedirect(f"{path}?{query}" if query else path)
        return private_response(response) if not story.published else response
    order = "time" if request.GET.get("order") == "time" else "quality"
    muted = muted_slugs(request.GET)
    rows = coverage_rows(story, order, muted)
    first, first_lag = first_reporter(story)
    canonical = absolute_url(request, path)
    image = story_image(story)
    description = (
        meta_description(story.lead.excerpt) or f"{story.lead.title}: reported by {story.outlet_count} outlets."
    )
    context = {
        "story": story,
        "lead": story.lead,
        "rows": rows,
        "outlets": shown_outlets(story, rows, muted),
        "timeline": timeline(story.lead, rows) if order == "time" else [],
        "timeline_chart": story_timeline_chart(story.lead, rows) if rows else None,
        "order": order,
        "first": first,
        "first_lag": first_lag,
        "topics": list(story.topics.all()),
        "related": related_stories(story, muted),
        "image": image,
        "jsonld": story_jsonld(request, story, canonical, rows),
        "page_title": story.lead.title,
        "description": description,
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
    story = get_object_or_404(
        Story.objects.visible_to(request.user, preview=True).only("id", "slug", "published"), pk=pk
    )
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
