"""Stored counts that public pages show, so no public page counts over a whole table.

Called after every import (whether or not it wrote anything, so that a re-run repairs
counts an interrupted run left behind), after editors publish or unpublish and after
they take down or restore a coverage item (stories.takedown); never from save().
"""

from typing import NamedTuple

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from stories.models import Coverage, Provider, Story, Topic

# Rows updated per statement: keeps the id list short on every database.
UPDATE_CHUNK = 500


class Recounted(NamedTuple):
    """How many topic and outlet rows a refresh changed (0 and 0: every stored count was right)."""

    topics: int
    providers: int

    @property
    def changed(self):
        return self.topics + self.providers


def _count(queryset, group_field):
    """A correlated subquery: the number of rows of ``queryset`` for the outer row."""
    return Coalesce(
        Subquery(queryset.values(group_field).annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()),
        0,
    )


def _topic_counts():
    through = Story.topics.through.objects.filter(story__published=True, topic_id=OuterRef("pk"))
    return {"story_count": _count(through, "topic_id")}


def _provider_counts():
    led = Story.objects.filter(published=True, lead__provider_id=OuterRef("pk"))
    # A story counts once per outlet however many of its items the outlet wrote; items an
    # editor took down (stories.takedown) count for nothing (one filter(): the same join).
    covered = (
        Story.objects.filter(
            published=True, coverage_items__hidden=False, coverage_items__article__provider_id=OuterRef("pk")
        )
        .order_by()
        .values("coverage_items__article__provider_id")
        .annotate(n=Count("pk", distinct=True))
        .values("n")[:1]
    )
    return {
        "led_count": _count(led, "lead__provider_id"),
        "covered_count": Coalesce(Subquery(covered, output_field=IntegerField()), 0),
    }


def _tally(queryset, group_field, count):
    """{group id: count} over ``queryset``, grouped by ``group_field`` (ids with none are absent)."""
    return dict(queryset.order_by().values(group_field).annotate(n=count).values_list(group_field, "n"))


def _refresh(model, rows, recount, counts):
    """Rewrite the stored counts of those of ``rows`` that differ from ``recount``; how many did.

    ``recount`` is {row id: (count, ...)} in the order of ``counts``' fields. The stale rows
    are found by reads only (no write, no write lock, when every count is right); each is
    then updated with its count computed again in the UPDATE itself, so a count another
    writer changed in between is stored as it is then, never as read here.
    """
    zero = (0,) * len(counts)
    stale = [pk for pk, *kept in rows.order_by().values_list("pk", *counts) if tuple(kept) != recount.get(pk, zero)]
    changed = 0
    for start in range(0, len(stale), UPDATE_CHUNK):
        changed += model.objects.filter(pk__in=stale[start : start + UPDATE_CHUNK]).update(**counts)
    return changed


def refresh_counts(story_ids=None):
    """Recount published stories per topic and per outlet; store the counts that differ.

    Without ``story_ids``, every topic and outlet: read-only when every stored count
    is right; returns a ``Recounted``, how many topic and outlet rows it changed.
    With ``story_ids``, only the topics and outlets those stories touch (what a
    publish or unpublish changes), all rewritten; returns how many.
    """
    if story_ids is not None:
        return _refresh_touched(list(story_ids))
    # One grouped count per kind over the published stories: a scan each, a good deal
    # cheaper than a count per topic or outlet, and no write at all when nothing is wrong.
    links = Story.topics.through.objects.filter(story__published=True)
    topic_counts = {pk: (n,) for pk, n in _tally(links, "topic_id", Count("pk")).items()}
    led_by = _tally(Story.objects.filter(published=True), "lead__provider_id", Count("pk"))
    # A story counts once per outlet however many of its items the outlet wrote.
    covering = Coverage.objects.shown().filter(story__published=True)
    covered_by = _tally(covering, "article__provider_id", Count("story_id", distinct=True))
    provider_counts = {pk: (led_by.get(pk, 0), covered_by.get(pk, 0)) for pk in led_by.keys() | covered_by.keys()}
    return Recounted(
        _refresh(Topic, Topic.objects.all(), topic_counts, _topic_counts()),
        _refresh(Provider, Provider.objects.all(), provider_counts, _provider_counts()),
    )


def _refresh_touched(story_ids):
    """Recount the topics and outlets ``story_ids`` touch, each in its UPDATE: a publish or
    unpublish changes nearly all of them, so no read first (the counts are rows rewritten)."""
    if not story_ids:
        return Recounted(0, 0)
    topics = Story.topics.through.objects.filter(story_id__in=story_ids).values("topic_id")
    lead_providers = Story.objects.filter(pk__in=story_ids).order_by().values("lead__provider_id")
    # Hidden items too: the outlet of an item just taken down must lose the story.
    coverage_providers = Coverage.objects.filter(story_id__in=story_ids).order_by().values("article__provider_id")
    providers = lead_providers.union(coverage_providers)
    return Recounted(
        Topic.objects.filter(pk__in=topics).update(**_topic_counts()),
        Provider.objects.filter(pk__in=providers).update(**_provider_counts()),
    )
