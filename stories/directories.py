"""Directories of topics and outlets with published stories, and an outlet's aggregates.

Everything here is the same for every reader until the content changes, so it
is cached under the content generation (stories/caching.py): any import or
publish makes new entries at once, and the time limits only bound how long an
unused entry lingers.

- ``topic_directory()``, ``provider_directory()``: the small lists behind the
  filter choices, the topic index and the feeds' lookups by slug
  (``find_topic()``, ``find_provider()``).
- ``topic_page()``: a topic page's topic and its stories per day over the year
  to its latest story (for the weekly chart), in one query.
- ``outlet_summary()``: an outlet page's aggregates (who appears beside it,
  ``appears_beside()``, and its stories per day over the year to its latest story).
"""

import datetime
import time

from django.core.cache import cache
from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import TruncDate

from stories.caching import generation
from stories.charts import WEEKS
from stories.models import Article, Coverage, Provider, Story, Topic

DIRECTORY_SECONDS = 300  # at most; any content change makes new ones at once (the cache generation)
OUTLET_SUMMARY_SECONDS = 300  # likewise
# The weekly charts count the days of WEEKS weeks up to the latest story; a week more in SQL
# because the window starts on a Monday, which Python works out (SQL dialects disagree).
CHART_WINDOW = datetime.timedelta(weeks=WEEKS + 1)
BESIDE_WINDOW = 200  # an outlet page's "appears beside" looks at the stories of its latest 200 articles
BESIDE_SIZE = 8

TOPIC_FIELDS = ("id", "slug", "name", "story_count")
OUTLET_FIELDS = ("id", "name", "slug", "domain", "led_count", "covered_count")


def topics_with_stories():
    """Topics with at least one published story (the stored count is of published stories)."""
    return Topic.objects.filter(story_count__gt=0)


def providers_with_stories():
    """Outlets that led or covered at least one published story (the stored counts are of published stories)."""
    return Provider.objects.filter(Q(led_count__gt=0) | Q(covered_count__gt=0))


# --- the directories -----------------------------------------------------------


# This process's copy of the current generation's directories: read from the shared cache, a
# directory of hundreds of outlets is unpickled on every request (half a millisecond). Keyed by
# the generation, which every request reads afresh, it changes when the shared entries do; kept
# no longer than they are.
_in_process = {}  # "topics" or "providers": (generation, expiry on the monotonic clock, directory)


def forget_process_copies():
    """Drop this process's copies (the tests empty the shared cache between tests, the generation staying)."""
    _in_process.clear()


def topic_directory():
    """Topics with published stories, by name: a list of dicts (id, slug, name, story_count). Not to be changed."""
    return _directory("topics", 0)


def provider_directory():
    """Outlets with published stories, by name: a list of dicts (id, slug, name, led_count, covered_count).
    Not to be changed."""
    return _directory("providers", 1)


def _directory(name, index):
    current = generation()
    held = _in_process.get(name)
    if held is not None and held[0] == current and held[1] > time.monotonic():
        return held[2]
    found = cache.get(f"directory:{name}:{current}")
    if found is None:
        found = _load_directories(current)[index]
    _in_process[name] = (current, time.monotonic() + DIRECTORY_SECONDS, found)
    return found


def _load_directories(current):
    """Both directories from ONE query (a cold list page reads both for its filter form), and cached.

    A union of the two small tables' rows, each with its kind; the database sorts
    each kind by name then id, as it would the two queries apart.
    """
    topics = topics_with_stories().annotate(kind=Value(0), first=F("story_count"), second=Value(0))
    providers = providers_with_stories().annotate(kind=Value(1), first=F("led_count"), second=F("covered_count"))
    columns = ("kind", "id", "slug", "name", "first", "second")
    rows = (
        topics.order_by()
        .values_list(*columns)
        .union(providers.order_by().values_list(*columns), all=True)
        .order_by("kind", "name", "id")
    )
    directories = ([], [])
    for kind, pk, slug, name, first, second in rows:
        if kind == 0:
            directories[0].append({"id": pk, "slug": slug, "name": name, "story_count": first})
        else:
            directories[1].append({"id": pk, "slug": slug, "name": name, "led_count": first, "covered_count": second})
    cache.set_many(
        {f"directory:topics:{current}": directories[0], f"directory:providers:{current}": directories[1]},
        DIRECTORY_SECONDS,
    )
    return directories


def find_topic(slug):
    """The directory's dict of the topic with this slug, or None."""
    return next((topic for topic in topic_directory() if topic["slug"] == slug), None)


def find_provider(slug):
    """The directory's dict of the outlet with this slug, or None."""
    return next((provider for provider in provider_directory() if provider["slug"] == slug), None)


def topic_with_stories(slug):
    """A topic page's topic dict: from the directory, else from the database; None when it has no story.

    A topic may be newer than the cached directory; made-up slugs cost one small query.
    """
    topic = find_topic(slug)
    if topic is None:
        topic = topics_with_stories().filter(slug=slug).values(*TOPIC_FIELDS).first()
    return topic


def most_stories_first(topics):
    """The directory's topics ordered for the topic index: most stories first, then by name."""
    return sorted(topics, key=lambda topic: (-topic["story_count"], topic["name"].lower()))


# --- an outlet's aggregates ----------------------------------------------------


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
        .union(Coverage.objects.shown().filter(article_id__in=articles).order_by().values("story_id"))
    )
    leads = (
        Story.objects.filter(pk__in=window)
        .order_by()
        .values_list("pk", "published", *(f"lead__provider__{f}" for f in OUTLET_FIELDS))
    )
    coverage = (
        Coverage.objects.shown()
        .filter(story_id__in=window)
        .order_by()
        .values_list("story_id", "story__published", *(f"article__provider__{f}" for f in OUTLET_FIELDS))
    )
    stories_by_outlet, outlets = {}, {}
    for story_id, published, *values in leads.union(coverage):
        if not published:
            continue
        outlet_id = values[0]
        if outlet_id not in outlets:
            outlets[outlet_id] = dict(zip(OUTLET_FIELDS, values, strict=True))
        stories_by_outlet.setdefault(outlet_id, set()).add(story_id)
    provider = next((outlet for outlet in outlets.values() if outlet["slug"] == provider_slug), None)
    if provider is None:
        return None, []
    beside = sorted(
        ((outlet, len(stories_by_outlet[pk])) for pk, outlet in outlets.items() if pk != provider["id"]),
        key=lambda pair: (-pair[1], pair[0]["name"].lower()),
    )
    return provider, beside[:BESIDE_SIZE]


def outlet_summary(slug):
    """An outlet's dict, who appears beside it and its stories per day (for the weekly chart).

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
        provider = providers_with_stories().filter(slug=slug).values(*OUTLET_FIELDS).first()
    if provider is None:  # not cached: made-up slugs must not fill the cache
        return None
    summary = {"provider": provider, "beside": beside, "days": outlet_days(provider["id"])}
    cache.set(key, summary, OUTLET_SUMMARY_SECONDS)
    return summary


# --- stories per day, for the weekly charts ------------------------------------


def _chart_window(latest):
    """``published_at >=`` this: CHART_WINDOW before the time ``latest`` (a one-row subquery) gives."""
    return ExpressionWrapper(Subquery(latest) - Value(CHART_WINDOW), output_field=DateTimeField())


def outlet_days(provider_id):
    """{date: published stories} an outlet led or covered in the year to its latest article: one grouped query.

    Days in the site's time zone, by the stories' time. The stories are found
    through the outlet's articles of that year on the article index (provider,
    -published_at), so the work grows with the outlet's last year, never with
    its whole history or the table.
    """
    latest = Article.objects.filter(provider_id=provider_id).order_by("-published_at").values("published_at")[:1]
    since = _chart_window(latest)
    led = Story.objects.filter(lead__provider_id=provider_id, lead__published_at__gte=since).order_by().values("pk")
    covered = (
        Coverage.objects.shown()
        .filter(article__provider_id=provider_id, article__published_at__gte=since)
        .order_by()
        .values("story_id")
    )
    rows = (
        Story.objects.published()
        .filter(pk__in=led.union(covered))
        .annotate(day=TruncDate("published_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return dict(rows)


# Past this many covered stories, an outlet's covered list walks the newest-stories index and
# checks each story's coverage (it soon finds a page); below it, gathering the outlet's few
# stories from the article index first is cheaper than walking past everyone else's.
DENSE_OUTLET = 5_000


def covered_stories(stories, provider):
    """``stories`` an outlet covered and did not lead, in a form its size makes cheap to page newest first."""
    provider_id = provider["id"]
    if provider["covered_count"] >= DENSE_OUTLET:
        its_items = Coverage.objects.shown().filter(story_id=OuterRef("pk"), article__provider_id=provider_id)
        stories = stories.filter(Exists(its_items))
    else:
        stories = stories.covered_by(provider_id)
    return stories.exclude(lead__provider_id=provider_id)


def topic_page(slug):
    """A topic page's topic dict and {date: published stories} over the year to its latest story.

    One grouped query (the topic's fields ride along on each day's row), cached
    under the content generation; None, and nothing cached, for a topic with no
    published story. The topic page reads this instead of the topic directory,
    so its chart costs no query of its own.
    """
    key = f"topic-page:{generation()}:{slug}"
    found = cache.get(key)
    if found is not None:
        return found
    tagged = Story.topics.through.objects.filter(
        topic__slug=slug, topic__story_count__gt=0, story__published=Value(True)
    )
    latest = tagged.order_by("-story__published_at").values("story__published_at")[:1]
    fields = ("topic_id", "topic__slug", "topic__name", "topic__story_count")
    rows = list(
        tagged.filter(story__published_at__gte=_chart_window(latest))
        .order_by()
        .values(*fields, day=TruncDate("story__published_at"))
        .annotate(n=Count("story_id"))
    )
    if not rows:
        return None
    topic = dict(zip(TOPIC_FIELDS, (rows[0][field] for field in fields), strict=True))
    found = {"topic": topic, "days": {row["day"]: row["n"] for row in rows}}
    cache.set(key, found, DIRECTORY_SECONDS)
    return found
