"""Changelist filters whose choices never load a whole large table.

Outlets: only the busiest ones are offered (one indexed query), but any outlet
can be filtered on by its slug in the address (``?provider=<slug>``), which
the outlet admin links to. Topics are a small table. Categories and article
types come from a distinct scan, so their lists are cached for an hour.
"""

from django.contrib import admin
from django.core.cache import cache
from django.db.models import Exists, OuterRef

from stories.models import Article, Provider, Story, Topic

BUSIEST_PROVIDERS = 20
CHOICES_CACHE_SECONDS = 60 * 60
MAX_CACHED_CHOICES = 50
NO_TOPIC = "_none"  # never a topic slug: slugify() strips leading underscores


def cached_distinct(key, queryset, field):
    """Distinct non-empty values of ``field`` (at most MAX_CACHED_CHOICES), cached for an hour."""
    values = cache.get(key)
    if values is None:
        values = sorted(
            queryset.exclude(**{field: ""}).order_by().values_list(field, flat=True).distinct()[:MAX_CACHED_CHOICES]
        )
        cache.set(key, values, CHOICES_CACHE_SECONDS)
    return values


def with_current(choices, value):
    """``choices`` plus the value in the address, if it is not among them (so it shows as selected)."""
    if value and value not in {choice for choice, _ in choices}:
        choices = [*choices, (value, value)]
    return choices


class ProviderFilter(admin.SimpleListFilter):
    """An outlet: the busiest outlets are listed, any outlet works by ``?provider=<slug>``."""

    title = "outlet"
    parameter_name = "provider"
    field_path = "provider__slug"

    def lookups(self, request, model_admin):
        busiest = list(
            Provider.objects.order_by("-led_count", "-covered_count").values_list("slug", "name")[:BUSIEST_PROVIDERS]
        )
        value = self.value()
        if value and value not in {slug for slug, _ in busiest}:
            current = Provider.objects.filter(slug=value).values_list("slug", "name").first()
            busiest.append(current or (value, value))
        return busiest

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field_path: self.value()})
        return queryset


class LeadProviderFilter(ProviderFilter):
    title = "lead outlet"
    field_path = "lead__provider__slug"


class TopicFilter(admin.SimpleListFilter):
    """A story's topic, through an EXISTS subquery: no join, so no DISTINCT over the list."""

    title = "topic"
    parameter_name = "topic"

    def lookups(self, request, model_admin):
        return [*Topic.objects.order_by("name").values_list("slug", "name"), (NO_TOPIC, "(no topic)")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        through = Story.topics.through.objects.filter(story_id=OuterRef("pk"))
        if value == NO_TOPIC:
            return queryset.filter(~Exists(through))
        return queryset.filter(Exists(through.filter(topic__slug=value)))


class CategoryFilter(admin.SimpleListFilter):
    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = cached_distinct("admin:story-categories", Story.objects.all(), "category")
        return with_current([(category, category) for category in categories], self.value())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(category=self.value())
        return queryset


class ScoredFilter(admin.SimpleListFilter):
    title = "heat score"
    parameter_name = "scored"

    def lookups(self, request, model_admin):
        return [("no", "Unscored (heat -1)"), ("yes", "Scored")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(heat=-1)
        if self.value() == "yes":
            return queryset.filter(heat__gte=0)
        return queryset


class HasImageFilter(admin.SimpleListFilter):
    title = "image"
    parameter_name = "has_image"

    def lookups(self, request, model_admin):
        return [("yes", "Has an image"), ("no", "No image")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(image__isnull=False)
        if self.value() == "no":
            return queryset.filter(image__isnull=True)
        return queryset


class ArticleTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        types = cached_distinct("admin:article-types", Article.objects.all(), "type")
        return with_current([(kind, kind) for kind in types], self.value())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(type=self.value())
        return queryset
