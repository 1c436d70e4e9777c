"""Stored counts that public pages show, so no public page counts over a whole table.

Called after an import and after editors publish or unpublish; never from save().
"""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from stories.models import Coverage, Provider, Story, Topic


def _count(queryset, group_field):
    """A correlated subquery: the number of rows of ``queryset`` for the outer row."""
    return Coalesce(
        Subquery(queryset.values(group_field).annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()),
        0,
    )


def refresh_counts(story_ids=None):
    """Recount published stories per topic and per outlet.

    With ``story_ids``, only the topics and outlets those stories touch are
    recounted (what a publish or unpublish changes); without, all of them.
    """
    topics = Topic.objects.all()
    providers = Provider.objects.all()
    if story_ids is not None:
        story_ids = list(story_ids)
        if not story_ids:
            return
        topics = topics.filter(stories__in=story_ids).distinct()
        lead_providers = Story.objects.filter(pk__in=story_ids).order_by().values("lead__provider_id")
        coverage_providers = Coverage.objects.filter(story_id__in=story_ids).order_by().values("article__provider_id")
        providers = providers.filter(pk__in=lead_providers.union(coverage_providers))

    through = Story.topics.through.objects.filter(story__published=True, topic_id=OuterRef("pk"))
    Topic.objects.filter(pk__in=topics.values("pk")).update(story_count=_count(through, "topic_id"))

    led = Story.objects.filter(published=True, lead__provider_id=OuterRef("pk"))
    # A story counts once per outlet however many of its items the outlet wrote.
    covered = (
        Story.objects.filter(published=True, coverage_items__article__provider_id=OuterRef("pk"))
        .order_by()
        .values("coverage_items__article__provider_id")
        .annotate(n=Count("pk", distinct=True))
        .values("n")[:1]
    )
    Provider.objects.filter(pk__in=providers.values("pk")).update(
        led_count=_count(led, "lead__provider_id"),
        covered_count=Coalesce(Subquery(covered, output_field=IntegerField()), 0),
    )
