"""The filters of the story lists (home, search, topic pages and the saved-search feeds).

``StoryFilter`` is a django-filter FilterSet that is always given published
stories (``Story.objects.visible_to()``). Its topic and outlet choices come
from the small cached directories of topics and outlets with published stories
(stories/directories.py), so a list page pays for them once per content change
(the cache generation of stories/caching.py) or cache period, not per request.
"""

import datetime
import re

import django_filters
from django import forms
from django.utils import timezone
from django.utils.functional import cached_property

from stories.caching import generation
from stories.directories import provider_directory, topic_directory
from stories.models import Story
from stories.muting import parse_muted


def _day_start(day):
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _named(value, limit=40):
    """Rejected text quoted for an error message, shortened: it comes from the URL."""
    text = str(value).strip()
    return f"“{text}”" if len(text) <= limit else f"“{text[:limit]}…”"


class AppliedValue(forms.BoundField):
    """A bound filter field shows the value applied (cleaned), or nothing when it was rejected.

    Django would show the raw text: ``06/01/2020`` or ``abc`` in a date or number
    input is invalid HTML, which browsers blank, silently dropping the filter on
    the next submit.
    """

    def value(self):
        if not self.form.is_bound:
            return super().value()
        if self.errors:
            return None
        return self.field.prepare_value(self.form.cleaned_data.get(self.name))


class StoryFilterForm(forms.Form):
    bound_field_class = AppliedValue

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            error = "The end date %(value)s comes before the start date."
            self.add_error("until", forms.ValidationError(error, params={"value": _named(until.isoformat())}))
        return data


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IsoDateField(forms.DateField):
    """A date written YYYY-MM-DD only, what a date input sends: 06/01/2020 could be June or January."""

    widget = forms.DateInput(attrs={"type": "date"})

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        if ISO_DATE.fullmatch(value):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:  # no such day: 2020-13-45
                pass
        raise forms.ValidationError(
            "%(value)s is not a date: use YYYY-MM-DD.", code="invalid", params={"value": _named(value)}
        )

    def prepare_value(self, value):
        # isoformat, not strftime: strftime writes year 1 as "1", not an HTML date.
        return value.isoformat() if isinstance(value, datetime.date) else value


class IsoDateFilter(django_filters.DateFilter):
    field_class = IsoDateField


class WholeNumberField(forms.IntegerField):
    """A whole number whose errors name the rejected text."""

    default_error_messages = {
        "min_value": "“%(value)s” is below the lowest, %(limit_value)s.",
        "max_value": "“%(value)s” is above the highest, %(limit_value)s.",
    }

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                "%(value)s is not a whole number.", code="invalid", params={"value": _named(value)}
            ) from None


class WholeNumberFilter(django_filters.Filter):
    field_class = WholeNumberField


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

    def validate(self, value):  # Django's, naming the rejected slug quoted and shortened
        forms.Field.validate(self, value)
        if value and not self.valid_value(value):
            message = self.error_messages["invalid_choice"]
            raise forms.ValidationError(message, code="invalid_choice", params={"value": _named(value)})


# A too long text is named by its first 40 characters (%(value).40s).
TOO_LONG = {"max_length": "“%(value).40s…” is too long: at most %(limit_value)d characters."}


class ChoiceOfSlugs(django_filters.Filter):
    field_class = SlugChoiceField


class SlugsSelect(forms.SelectMultiple):
    """A multi-select that also reads one comma-separated value: ``mute=a,b`` as well as ``mute=a&mute=b``."""

    choices = SlugSelect.choices

    def value_from_datadict(self, data, files, name):
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist else [data.get(name) or ""]
        return list(parse_muted(values))


class SlugsChoiceField(forms.MultipleChoiceField):
    """Several slugs, cheap to copy (as SlugChoiceField); slugs that are not among the choices are dropped.

    Dropped, not rejected: a muted outlet may since have lost its last published
    story, and a reader's saved link must go on muting the others.
    """

    widget = SlugsSelect
    _get_choices, _set_choices = SlugChoiceField._get_choices, SlugChoiceField._set_choices
    choices = property(_get_choices, _set_choices)
    __deepcopy__ = SlugChoiceField.__deepcopy__
    valid_value = SlugChoiceField.valid_value

    def clean(self, value):
        return [slug for slug in super().to_python(value) if self.valid_value(slug)]


class ChoiceOfSlugsList(django_filters.Filter):
    field_class = SlugsChoiceField


class StoryFilter(django_filters.FilterSet):
    topic = ChoiceOfSlugs(
        label="Topic",
        method="filter_topic",
        error_messages={"invalid_choice": "%(value)s is not a topic with stories."},
    )
    provider = ChoiceOfSlugs(
        label="Outlet",
        method="filter_provider",
        help_text="Stories this outlet led or covered.",
        error_messages={"invalid_choice": "%(value)s is not an outlet with stories."},
    )
    mute = ChoiceOfSlugsList(
        label="Mute outlets",
        method="filter_mute",
        help_text="Hides these outlets everywhere: the stories they led, their coverage and their names.",
    )
    category = django_filters.CharFilter(
        label="Category", method="filter_category", max_length=100, error_messages=TOO_LONG
    )
    type = django_filters.CharFilter(
        label="Type",
        method="filter_type",
        max_length=50,
        help_text="The headline article's type: article, video…",
        error_messages=TOO_LONG,
    )
    since = IsoDateFilter(label="From", method="filter_since")
    until = IsoDateFilter(label="To", method="filter_until")
    min_quality = WholeNumberFilter(
        label="Minimum quality",
        field_name="quality",
        lookup_expr="gte",
        min_value=0,
        max_value=2**31 - 1,
    )

    class Meta:
        model = Story
        fields = []
        form = StoryFilterForm

    OUTLET_FILTERS = {"provider": "Any outlet", "mute": None}  # with their empty choice (none: a multi-select)

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
                    self.filters[name].extra["choices"] = [("", empty_label), *outlets] if empty_label else outlets
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

    def filter_mute(self, queryset, name, value):
        """Muted outlets' stories go (those they led); their coverage and names go where cards and rows are made."""
        ids = [self.providers[slug]["id"] for slug in value if slug in self.providers]
        return queryset.exclude(lead__provider_id__in=ids) if ids else queryset

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
        """The filters applied, rejected ones left out: a list of (name, label, shown value).

        A chip shows what its field shows: the cleaned value, or a topic's or an outlet's name.
        """
        if not self.is_bound:
            return []
        form = self.form
        form.is_valid()  # cleaned_data holds the accepted fields, even when others were rejected
        chips = []
        for name, value in form.cleaned_data.items():
            if value in (None, "", []):
                continue
            if name == "topic":
                shown = self.topics.get(value, {}).get("name", value)
            elif name == "mute":
                shown = ", ".join(self.providers.get(slug, {}).get("name", slug) for slug in value)
            elif name in self.OUTLET_FILTERS:
                shown = self.providers.get(value, {}).get("name", value)
            else:
                shown = form[name].value()
            chips.append((name, self.filters[name].label, shown))
        return chips
