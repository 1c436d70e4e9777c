"""A story's coverage as its page shows it: one row per outlet, the timeline, the first reporter, related stories.

The story comes from ``Story.objects.for_story_page()`` (its lead, coverage
and topics already loaded): everything here but ``related_stories()`` works on
it without a query.
"""

import datetime
from dataclasses import dataclass, field

from stories.models import Story
from stories.templatetags.reader import lead_lag

RELATED_SIZE = 5
RELATED_WINDOW = datetime.timedelta(days=365)


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
    stories = Story.objects.published().exclude(lead__provider__slug__in=muted) if muted else Story.objects.published()
    return list(
        stories.filter(
            published_at__gte=story.published_at - RELATED_WINDOW,
            published_at__lte=story.published_at + RELATED_WINDOW,
        )
        .on_topics(topic_ids)
        .exclude(pk=story.pk)
        .select_related("lead__provider")
        .only(
            "id",
            "slug",
            "published_at",
            "lead__title",
            "lead__language",
            "lead__provider__name",
            "lead__provider__slug",
        )
        .newest_first()[:RELATED_SIZE]
    )
