"""Story cards: the rendered card of each story in a list, from the card cache, and day groups of cards.

A card is cached by story, update time, heading level, the muted outlets
(``?mute=``, stories/muting.py: a card without them never shows a reader's muted
outlets, and one with them never reaches the others) and the content generation
(stories/caching.py): any import or publish renews every card. A cached card
holds no per-request state; ``story_cards()`` puts in the relative time ("3
hours ago") and takes ``loading="lazy"`` off the page's first picture.

A card names its lead's outlet (``data-lead-outlet``) and every outlet it counts
(``data-outlets``), so the script can take a reader's muted outlets out of it too.
"""

import hashlib

from django.core.cache import cache
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape

# SafeString, not mark_safe, for the str built here: mark_safe first checks its argument for
# lazy text, which costs more than most of these helpers' own work (a page calls them hundreds
# of times). Each use says why its text is safe (tests/test_security.py checks that it does).
from django.utils.safestring import SafeString

from stories.caching import generation
from stories.models import Story, attach_topics
from stories.muting import coverage_outlet_slugs, shown_outlet_count, story_outlet_slugs
from stories.templatetags.reader import day_label, relative_time

CARD_TEMPLATE = "includes/story_card.html"
CARD_SECONDS = 600
RELTIME_MARK = "<!--reltime-->"  # data is escaped, so this can only come from the template


def card_key(story, heading, content_generation, muted=()):
    """The cache key of a story's card: a new update, heading level, set of muted outlets or content generation
    is a new card."""
    key = f"card:{content_generation}:{story.pk}:{story.updated_at.timestamp()}:{heading}"
    return f"{key}:{mute_key(muted)}" if muted else key


def mute_key(muted):
    """A short, fixed-length name for a set of muted outlets (up to a hundred slugs)."""
    return hashlib.blake2b(",".join(sorted(muted)).encode(), digest_size=12).hexdigest()


def card_context(story, heading, muted=()):
    """What the card template gets: the story and its outlets less the muted ones (names, slugs, count)."""
    muted = frozenset(muted)
    slugs = story_outlet_slugs(story)
    return {
        "story": story,
        "heading": heading,
        "shown_count": shown_outlet_count(story.outlet_count, slugs, muted),
        "outlet_slugs": [slug for slug in slugs if slug not in muted],
        "outlets_preview": [outlet for outlet in story.outlets_preview if outlet[1] not in muted],
    }


def story_cards(stories, *, heading="h3", now=None, muted=()):
    """Rendered story cards for ``stories``, in order, from the cache where possible, less the ``muted`` outlets.

    The stories need only their id, update and publication times
    (``for_card_keys()``): the cards missing from the cache are loaded whole in
    one query, their topics with them (``attach_topics()``). A story deleted since
    the list was read gets an empty card.
    """
    if not stories:
        return []
    now = now or timezone.now()
    current = generation()
    keys = {story.pk: card_key(story, heading, current, muted) for story in stories}
    found = cache.get_many(list(keys.values()))
    missing = [story.pk for story in stories if keys[story.pk] not in found]
    if missing:
        # By primary key, not through the list's filters: SQLite would walk the published index instead.
        loaded = (
            Story.objects.for_cards()
            .with_topic_rows()
            .annotate(coverage_slugs=coverage_outlet_slugs())
            .in_bulk(missing)
        )
        for story in loaded.values():
            attach_topics(story)
        card = get_template(CARD_TEMPLATE)
        fresh = {keys[pk]: str(card.render(card_context(story, heading, muted))) for pk, story in loaded.items()}
        cache.set_many(fresh, CARD_SECONDS)
        found.update(fresh)
    cards, eager = [], True
    for story in stories:
        html = found.get(keys[story.pk])
        if html is None:  # deleted since the list was read
            cards.append("")
            continue
        html = html.replace(RELTIME_MARK, escape(relative_time(story.published_at, now)), 1)
        if eager and ' loading="lazy"' in html:  # the first picture is likely in view: load it at once
            html, eager = html.replace(' loading="lazy"', "", 1), False
        # Safe: rendered by our own template with autoescaping.
        cards.append(SafeString(html))  # nosec B703
    return cards


def day_groups(stories, cards, now):
    """Cards under day headings ("Today", "Yesterday", dates) in the site's time zone.

    A list of dicts (day, label, cards), newest day first when the stories are.
    The script regroups them in the reader's zone (templates/includes/day_groups.html).
    """
    today = timezone.localdate(now)
    groups = []
    for story, card in zip(stories, cards, strict=True):
        day = timezone.localdate(story.published_at)
        if not groups or groups[-1]["day"] != day:
            groups.append({"day": day, "label": day_label(day, today), "cards": []})
        groups[-1]["cards"].append(card)
    return groups
