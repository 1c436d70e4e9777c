"""The filters of the story lists (home, search, topic pages and the saved-search feeds).

``StoryFilter`` is a django-filter FilterSet that is always given published
stories (``visible_stories()`` in views.py). Its topic and outlet choices come
from a small cached directory of topics and outlets with published stories, so
a list page pays for them once per content change (the cache generation of
stories/caching.py) or cache period, not per request.
"""

import datetime

import django_filters
from django import forms
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property

from stories.caching import generation
from stories.models import Provider, Story, Topic

DIRECTORY_SECONDS = 300  # at most; any content change makes new ones at once (the cache generation)


# --- directories of topics and outlets with published stories -----------------


def topic_directory():
    """Topics with published stories, by name: a list of dicts (id, slug, name, story_count)."""
    key = f"directory:topics:{generation()}"
    topics = cache.get(key)
    if topics is None:
        topics = list(
            Topic.objects.filter(story_count__gt=0).order_by("name", "id").values("id", "slug", "name", "story_count")
        )
        cache.set(key, topics, DIRECTORY_SECONDS)
    return topics


def provider_directory():
    """Outlets with published stories, by name: a list of dicts (id, slug, name, led_count, covered_count)."""
    key = f"directory:providers:{generation()}"
    providers = cache.get(key)
    if providers is None:
        providers = list(
            Provider.objects.filter(Q(led_count__gt=0) | Q(covered_count__gt=0))
            .order_by("name", "id")
            .values("id", "slug", "name", "led_count", "covered_count")
        )
        cache.set(key, providers, DIRECTORY_SECONDS)
    return providers


def find_topic(slug):
    return next((topic for topic in topic_directory() if topic["slug"] == slug), None)


def find_provider(slug):
    return next((provider for provider in provider_directory() if provider["slug"] == slug), None)


# --- the filter set ------------------------------------------------------------


def _day_start(day):
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


class StoryFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date comes before the start date.")
        return data


class SlugSelect(forms.Select):
    """Django's Select, its choices kept as given (already plain pairs), not normalised on every copy."""

    choices = property(lambda self: self._options, lambda self, value: setattr(self, "_options", tuple(value)))


class SlugChoiceField(forms.ChoiceField):
    """A choice among slugs, cheap to copy: a form copies its fields on every request.

    Django's plain ChoiceField (a slug such as "null" means nothing special), but
    its choices are one shared tuple that a copy neither duplicates nor normalises
    again (an outlet list runs to hundreds), checked against a set.
    """

    widget = SlugSelect

    def _get_choices(self):
        return self._options

    def _set_choices(self, value):
        self._options = tuple(value)
        self._slugs = frozenset(str(slug) for slug, _ in self._options)
        self.widget.choices = self._options

    choices = property(_get_choices, _set_choices)

    def __deepcopy__(self, memo):
        return forms.Field.__deepcopy__(self, memo)  # the copy shares the tuple and the set

    def valid_value(self, value):
        return str(value) in self._slugs


class ChoiceOfSlugs(django_filters.Filter):
    field_class = SlugChoiceField


class StoryFilter(django_filters.FilterSet):
    topic = ChoiceOfSlugs(
        label="Topic",
        method="filter_topic",
    )
    provider = ChoiceOfSlugs(
        label="Outlet",
        method="filter_provider",
        help_text="Stories this outlet led or covered.",
    )
    exclude_provider = ChoiceOfSlugs(
        label="Mute an outlet",
        method="filter_exclude_provider",
        help_text="Hides the stories this outlet led.",
    )
    category = django_filters.CharFilter(label="Category", method="filter_category", max_length=100)
    type = django_filters.CharFilter(
        label="Type", method="filter_type", max_length=50, help_text="The headline article's type: article, video…"
    )
    since = django_filters.DateFilter(
        label="From", method="filter_since", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(label="To", method="filter_until", widget=forms.DateInput(attrs={"type": "date"}))
    min_quality = django_filters.NumberFilter(
        label="Minimum quality",
        field_name="quality",
        lookup_expr="gte",
        min_value=0,
        max_value=2**31 - 1,
        decimal_places=0,
    )

    class Meta:
        model = Story
        fields = []
        form = StoryFilterForm

    OUTLET_FILTERS = {"provider": "Any outlet", "exclude_provider": "Mute no outlet"}  # with their empty choice

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, without=()):
        super().__init__(data, queryset, request=request, prefix=prefix)
        for name in without:  # a topic page has no topic filter, for instance
            self.filters.pop(name, None)

    # The directories are read when first needed (a form to build, a filter to
    # apply), once per filter set: an unfiltered list whose form is cached needs neither.

    @cached_property
    def content_generation(self):
        """The content generation the choices come from: it keys the cached fields of an unfiltered form."""
        return generation()

    @cached_property
    def topics(self):
        return {topic["slug"]: topic for topic in topic_directory()} if "topic" in self.filters else {}

    @cached_property
    def providers(self):
        if not self.OUTLET_FILTERS.keys() & self.filters.keys():
            return {}
        return {provider["slug"]: provider for provider in provider_directory()}

    @property
    def form(self):
        if not hasattr(self, "_form"):
            if "topic" in self.filters:
                choices = [("", "Any topic")] + [(slug, topic["name"]) for slug, topic in self.topics.items()]
                self.filters["topic"].extra["choices"] = choices
            outlets = [(slug, provider["name"]) for slug, provider in self.providers.items()]
            for name, empty_label in self.OUTLET_FILTERS.items():
                if name in self.filters:
                    self.filters[name].extra["choices"] = [("", empty_label), *outlets]
        return super().form

    # --- filtering ---------------------------------------------------------

    def filter_topic(self, queryset, name, value):
        topic = self.topics.get(value)
        return queryset.filter(topics=topic["id"]) if topic else queryset.none()

    def filter_provider(self, queryset, name, value):
        provider = self.providers.get(value)
        if provider is None:
            return queryset.none()
        return queryset.by_outlet(provider["id"])

    def filter_exclude_provider(self, queryset, name, value):
        provider = self.providers.get(value)
        return queryset.exclude(lead__provider_id=provider["id"]) if provider else queryset

    def filter_category(self, queryset, name, value):
        return queryset.filter(category=value.strip().lower())

    def filter_type(self, queryset, name, value):
        return queryset.filter(lead__type=value.strip().lower())

    def filter_since(self, queryset, name, value):
        return queryset.filter(published_at__gte=_day_start(value))

    def filter_until(self, queryset, name, value):
        if value >= datetime.date.max:
            return queryset
        return queryset.filter(published_at__lt=_day_start(value + datetime.timedelta(days=1)))

    # --- describing --------------------------------------------------------

    def active(self):
        """The filters in use, valid ones only: a list of (name, label, shown value)."""
        if not self.is_bound:
            return []
        form = self.form
        data = form.cleaned_data if form.is_valid() else getattr(form, "cleaned_data", {})
        chips = []
        for name, value in data.items():
            if value in (None, ""):
                continue
            shown = value
            if name == "topic":
                shown = self.topics.get(value, {}).get("name", value)
            elif name in ("provider", "exclude_provider"):
                shown = self.providers.get(value, {}).get("name", value)
            elif isinstance(value, datetime.date):
                shown = value.isoformat()
            elif name == "min_quality":
                shown = int(value)
            chips.append((name, self.filters[name].label, shown))
        return chips
