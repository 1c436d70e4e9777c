"""A story's coverage as its page shows it: one row per outlet, the timeline, the first reporter, related stories.

The story comes from ``story_for_page()`` (or ``Story.objects.for_story_page()``:
its lead, coverage and topics already loaded): everything here but
``related_stories()`` works on it without a query.
"""

import copy
import datetime
import functools
from dataclasses import dataclass, field

from django.db import connection, connections
from django.db.models import QuerySet

from stories.models import Article, Coverage, Provider, Story, attach_topics
from stories.templatetags.reader import lead_lag

RELATED_SIZE = 5
RELATED_WINDOW = datetime.timedelta(days=365)


class CompiledQuery:
    """A queryset of fixed shape, built and compiled once per process, then run with other parameter values.

    On a story page, building and compiling a query costs about ten times what SQLite
    takes to run it (indexed lookups). ``build(*values)`` makes the queryset; it is
    called once, with the ``placeholders`` (distinct integers or aware datetimes, one
    per value, that no real value equals), and each call then runs the same SQL, the
    placeholders' places holding its own values, through Django's compiler (the same
    row conversion, model instances, select_related and values_list rows).
    """

    def __init__(self, build, *placeholders):
        self.build = build
        self.placeholders = placeholders
        self.compiled = {}  # by database alias and vendor: what build() gave, its compiler, SQL and parameters

    @staticmethod
    def adapt(value):
        """A value as the database gets it (DateTimeField's way for a datetime)."""
        return connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime.datetime) else value

    def __call__(self, *values):
        key = (connection.alias, connection.vendor)
        entry = self.compiled.get(key)
        if entry is None:
            queryset = self.build(*self.placeholders)
            compiler = queryset.query.get_compiler(queryset.db)
            sql, params = compiler.as_sql()
            adapted = [self.adapt(value) for value in self.placeholders]
            slots = [(i, adapted.index(p)) for i, p in enumerate(params) if type(p) is not bool and p in adapted]
            if len(slots) != len(adapted):
                raise ValueError(f"each placeholder must be one parameter of the SQL: {sql}")
            entry = self.compiled[key] = (queryset, compiler, sql, params, slots)
        queryset, compiler, sql, params, slots = entry
        params = list(params)
        for position, index in slots:
            params[position] = self.adapt(values[index])
        runner = copy.copy(compiler)  # set up by the first as_sql(): its select, klass_info and converters
        runner.connection = connections[queryset.db]  # this thread's (a connection is not shared between threads)
        runner.as_sql = lambda *args, **kwargs: (sql, tuple(params))
        query = copy.copy(queryset.query)
        query.get_compiler = lambda *args, **kwargs: runner
        rows = QuerySet(queryset.model, query=query, using=queryset.db)
        rows._iterable_class, rows._fields = queryset._iterable_class, queryset._fields  # values_list's rows
        return list(rows)


_IDS = (-7_000_000_001, -7_000_000_002, -7_000_000_003)
_TIMES = (
    datetime.datetime(1901, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
    datetime.datetime(1902, 3, 4, 5, 6, 7, tzinfo=datetime.UTC),
)
_PUBLISHED_STORY = CompiledQuery(
    lambda pk: Story.objects.published().select_related("lead__provider").with_topic_rows().filter(pk=pk).order_by(),
    _IDS[0],
)
_ANY_STORY = CompiledQuery(
    lambda pk: Story.objects.select_related("lead__provider").with_topic_rows().filter(pk=pk).order_by(), _IDS[0]
)
_SHOWN_COVERAGE = CompiledQuery(
    lambda pk: Coverage.objects.shown().filter(story_id=pk).select_related("article__provider").order_by("position"),
    _IDS[0],
)


def story_for_page(pk, *, drafts=False):
    """The published story ``pk`` (or any, with ``drafts``) with its lead, coverage and topics in hand, or None:
    two queries.

    What ``Story.objects.for_story_page()`` loads (``story.coverage_items.all()`` and
    ``story.topics.all()`` answer without a query), with less work per request: the
    topics come in the story's own row (``with_topic_rows()``) and the coverage in one
    plain query, with no ``prefetch_related`` machinery, both compiled once per process.
    """
    found = (_ANY_STORY if drafts else _PUBLISHED_STORY)(pk)
    if not found:
        return None
    story = found[0]
    attach_topics(story)
    items = _SHOWN_COVERAGE(story.pk)
    for item in items:
        Coverage.story.field.set_cached_value(item, story)
    coverage = Coverage.objects.all()
    coverage._result_cache, coverage._prefetch_done = items, True  # what prefetch_related leaves
    story._prefetched_objects_cache["coverage_items"] = coverage
    return story


@dataclass
class CoverageRow:
    """One outlet's coverage of a story: its best item, and the others folded under it."""

    provider: object
    best: object
    others: list = field(default_factory=list)


def coverage_rows(story, order, muted=()):
    """The story's coverage, one row per outlet, ordered by "quality" (default) or "time"; no row for a ``muted`` slug.

    Best item of an outlet: highest quality, ties to the earliest. Each item gets
    ``lag``: how much earlier or later it came than the headline article.
    """
    lead_time = story.lead.published_at
    by_outlet = {}
    for item in story.coverage_items.all():
        article = item.article
        if article.provider.slug in muted:
            continue
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


def timeline(lead, rows):
    """Rows in time order with the headline article in its place: [{"row": row}, ..., {"lead": True}, ...].

    ``rows`` are ``coverage_rows(story, "time")``; a row as early as the lead comes after it.
    """
    earlier = [row for row in rows if row.best.published_at < lead.published_at]
    return [*({"row": row} for row in earlier), {"lead": True}, *({"row": row} for row in rows[len(earlier) :])]


def first_reporter(story):
    """The earliest article of the story, lead or coverage (ties to the lowest id), and its lag behind the lead."""
    everything = [story.lead] + [item.article for item in story.coverage_items.all()]
    first = min(everything, key=lambda article: (article.published_at, article.pk))
    return first, lead_lag(first.published_at, story.lead.published_at)


def shown_outlets(story, rows, muted=()):
    """The outlets a story page counts, by slug: the lead's and those of its rows, none ``muted``.

    The same count as a card's (``cards.card_context``): every distinct outlet, the lead's included.
    """
    slugs = dict.fromkeys([story.lead.provider.slug, *(row.provider.slug for row in rows)])
    return [slug for slug in slugs if slug not in muted]


def related_stories(story, muted=()):
    """At most five other published stories on the story's topics from around its time, newest first: one query.

    Stories led by a ``muted`` outlet are left out.

    The window (RELATED_WINDOW either side of the story) bounds the index walk of
    ``on_topics`` when the topics are rare, whatever the size of the archive.
    """
    topic_ids = [topic.pk for topic in story.topics.all()]
    if not topic_ids:
        return []
    if muted:
        rows = _related_rows(
            Story.objects.published().exclude(lead__provider__slug__in=muted),
            story.pk,
            story.published_at - RELATED_WINDOW,
            story.published_at + RELATED_WINDOW,
            *topic_ids,
        )
    else:
        rows = _related_query(len(topic_ids))(
            story.pk, story.published_at - RELATED_WINDOW, story.published_at + RELATED_WINDOW, *topic_ids
        )
    # Plain rows made into the few objects the page reads (cheaper than the ORM's deferred models).
    related = []
    for pk, slug, published_at, title, language, provider_name, provider_slug in rows:
        item = Story(id=pk, slug=slug, published_at=published_at)
        item.lead = Article(title=title, language=language, provider=Provider(name=provider_name, slug=provider_slug))
        related.append(item)
    return related


def _related_rows(stories, pk, since, until, *topic_ids):
    return (
        stories.filter(published_at__gte=since, published_at__lte=until)
        .on_topics(topic_ids)
        .exclude(pk=pk)
        .newest_first()
        .values_list(
            "id",
            "slug",
            "published_at",
            "lead__title",
            "lead__language",
            "lead__provider__name",
            "lead__provider__slug",
        )[:RELATED_SIZE]
    )


@functools.lru_cache(maxsize=64)
def _related_query(topic_count):
    """``related_stories()``'s query, compiled once per number of topics (no muted outlets)."""
    topic_ids = tuple(-8_000_000_000 - n for n in range(topic_count))
    return CompiledQuery(
        lambda *values: _related_rows(Story.objects.published(), *values), _IDS[0], *_TIMES, *topic_ids
    )
