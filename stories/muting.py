"""Muted outlets: a reader's outlets that vanish from every page they look at.

Two ways to mute, one result:

- Without JavaScript, the ``mute`` query parameter: ``?mute=slug-a,slug-b``, one
  parameter so the whole-page cache keys on it (stories/caching.py). Repeated
  ``mute=`` (what the filter form's multi-select sends) and the old single-valued
  ``exclude_provider`` are redirected to that one canonical form
  (``canonical_mute_url()``, called by ``cache_public_page``).
- With JavaScript, the browser's ``localStorage`` (static/js/site.js): pages stay
  the same for every anonymous reader, and the script hides what the server marked
  with ``data-outlet`` / ``data-lead-outlet`` and recounts ``data-outlet-count``.

Server side a muted outlet loses: the stories it led in lists and feeds
(``StoryFilter``), its coverage rows (``coverage.coverage_rows``), the related
stories it led (``coverage.related_stories``), its name on cards and its place in
every count (``cards.story_cards``, ``shown_outlet_count``).
"""

import re
from urllib.parse import urlencode

from django.db.models import Aggregate, CharField, OuterRef, Subquery

from stories.models import Coverage

PARAM = "mute"
OLD_PARAM = "exclude_provider"  # the single "Mute an outlet" filter of earlier releases: its links still work
MAX_MUTED = 100  # slugs read from one request: more is a made-up URL, not a reader's choice
_SEPARATORS = re.compile(r"[\s,]+")
_SLUG = re.compile(r"[-\w]{1,255}")  # Provider.slug; anything else names no outlet (and is never echoed)


def parse_muted(values):
    """Sorted, distinct slugs from parameter values such as ``["b,a", "c"]`` (what is not a slug dropped)."""
    slugs = {piece for value in values for piece in _SEPARATORS.split(value) if _SLUG.fullmatch(piece)}
    return tuple(sorted(slugs)[:MAX_MUTED])


def muted_slugs(query):
    """The outlets a request mutes (a QueryDict): its ``mute`` values and the old ``exclude_provider`` ones."""
    return parse_muted(query.getlist(PARAM) + query.getlist(OLD_PARAM))


def mute_value(slugs):
    """The one ``mute`` parameter value for ``slugs``: "a,b"."""
    return ",".join(slugs)


def canonical_mute_url(request):
    """The address to redirect to when the request names muted outlets in a non-canonical way, else None.

    Canonical: one ``mute`` parameter, its slugs sorted, distinct, comma-separated,
    in the place of the first one; ``exclude_provider`` folded into it.
    """
    query = request.GET
    mutes, olds = query.getlist(PARAM), query.getlist(OLD_PARAM)
    if not olds and len(mutes) <= 1 and (not mutes or mutes[0] == mute_value(parse_muted(mutes))):
        return None
    slugs = parse_muted(mutes + olds)
    params, placed = [], False
    for name, value in _pairs(request):
        if name in (PARAM, OLD_PARAM):
            if not placed and slugs:
                params.append((PARAM, mute_value(slugs)))
            placed = True
            continue
        params.append((name, value))
    return f"{request.path}?{urlencode(params)}" if params else request.path


def _pairs(request):
    """The query's (name, value) pairs in their order."""
    return [(name, value) for name, values in request.GET.lists() for value in values]


def without_muted(request, slugs):
    """The current address with ``slugs`` taken out of its ``mute`` parameter (the no-JS "unmute" links)."""
    left = tuple(slug for slug in muted_slugs(request.GET) if slug not in slugs)
    params = []
    for name, value in _pairs(request):
        if name in (PARAM, OLD_PARAM):
            if left:
                params.append((PARAM, mute_value(left)))
                left = ()
            continue
        if name in ("after", "before"):  # back to the first page: the list changed
            continue
        params.append((name, value))
    return f"{request.path}?{urlencode(params)}" if params else request.path


def without_muted_leads(stories, slugs):
    """``stories`` less those a muted outlet led (a list that no StoryFilter filters: feeds, day archives)."""
    return stories.exclude(lead__provider__slug__in=slugs) if slugs else stories


def shown_outlet_count(count, slugs, muted):
    """A story's count of outlets once the muted ones are taken out: ``count`` less the muted among ``slugs``."""
    return max(count - len(set(slugs) & set(muted)), 0)


# --- every outlet of a story, in one column of the query that loads it ----------


class OutletSlugs(Aggregate):
    """The distinct slugs of a group's outlets joined with commas (SQLite group_concat, PostgreSQL string_agg)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(DISTINCT %(expressions)s)"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, function="STRING_AGG", template="%(function)s(DISTINCT %(expressions)s, ',')"
        )


def coverage_outlet_slugs():
    """A subquery for ``Story`` rows: the slugs of the outlets of its coverage, "a,b" (None for no coverage).

    Cards carry every outlet of their story (``data-outlets``) so that a reader's
    muted outlets can be taken out of the count, in the browser or on the server.
    """
    per_story = (
        Coverage.objects.shown()  # an item an editor took down names no outlet (stories.takedown)
        .filter(story_id=OuterRef("pk"))
        .order_by()
        .values("story_id")
        .annotate(slugs=OutletSlugs("article__provider__slug"))
        .values("slugs")
    )
    return Subquery(per_story, output_field=CharField())


def story_outlet_slugs(story):
    """Every outlet slug of a story loaded with ``coverage_outlet_slugs()`` as ``coverage_slugs``, the lead's first."""
    lead = story.lead.provider.slug
    others = sorted(set(filter(None, (getattr(story, "coverage_slugs", None) or "").split(","))) - {lead})
    return [lead, *others]
