"""Template helpers of the reader site: ``{% load reader %}``, and the same functions in the public pages'
Jinja2 templates (stories/jinja2.py registers them: ``{{ timestamp(value) }}``, ``{{ value|reltime }}``).

- ``safe_url``: the URL if it is http(s), else "" (only those ever reach href or src).
- ``picture_url``: a picture's URL if ``stories.pictures`` allows it (https), else "".
- ``jsonld``: a value as JSON for a ``<script type="application/ld+json">`` block.
- ``reltime``: "3 hours ago"; ``lag``: "4 h earlier"; ``day_label``: "Today".
- ``lang``: ` lang="ja"` for an article whose language is known.
- ``{% select field %}``: a ``<select>`` for a form field, rendered in Python (outlet
  lists are long and the template engine is the slow part of a page).
- ``{% timestamp value %}``: ``<time datetime="(ISO 8601, UTC)">11 June 2020, 02:01 UTC</time>``; the
  script rewrites the text in the reader's zone and locale. ``{% time_zone_name %}``: "UTC".
- ``dimensions``: ` width="640" height="480"` for a picture whose size is known.
- ``{% outlet_count count slugs %}``: "Reported by 3 outlets", the one count of cards and story pages.
- ``{% outlet_link name slug %}``: an outlet's name linked to its page (the plain name when
  the slug makes no address).
"""

import datetime
import functools
import html
import json
import re
from urllib.parse import urlsplit

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import formats, timezone
from django.utils.html import format_html

# SafeString, not mark_safe, for the str built here: mark_safe first checks its argument for
# lazy text, which costs more than most of these helpers' own work (a page calls them hundreds
# of times). Each use says why its text is safe (tests/test_security.py checks that it does).
from django.utils.safestring import SafeString

from stories.languages import UNKNOWN_LANGUAGE
from stories.pictures import picture_url

register = template.Library()

_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def attribute_text(value):
    """``value`` escaped for HTML unless it is markup already (Django's ``conditional_escape``).

    Without ``conditional_escape``'s lazy-string wrapper, which costs as much as the
    escaping: the helpers below run a few times per outlet on every page.
    """
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


# --- URLs ---------------------------------------------------------------------


_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def safe_url(value):
    """``value`` when it is an absolute http or https URL, else the empty string."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or _SPACE_OR_CONTROL.search(url):
        return ""  # whitespace or control characters inside: not a URL we pass on
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url


register.filter("safe_url", safe_url)
# A picture's src: only what stories.pictures allows (the CSP's img-src is built from the same policy).
register.filter("picture_url", picture_url)


# --- JSON-LD ------------------------------------------------------------------


@register.filter
def jsonld(value):
    """JSON safe inside a script element: <, > and & are written as \\u escapes."""
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    # Safe: with <, > and & escaped nothing can close the script element.
    return SafeString(text.translate(_JSON_ESCAPES))  # nosec B703


# --- times --------------------------------------------------------------------


def _plural(number, word):
    return f"{number} {word}{'' if number == 1 else 's'}"


def relative_time(value, now=None):
    """``value`` against ``now`` in words: "just now", "3 hours ago", "2 days ago", "in 5 minutes"."""
    if not value:
        return ""
    now = now or timezone.now()
    seconds = int((now - value).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        text = _plural(seconds // 60, "minute")
    elif seconds < 86_400:
        text = _plural(seconds // 3600, "hour")
    elif seconds < 86_400 * 30:
        text = _plural(seconds // 86_400, "day")
    elif seconds < 86_400 * 365:
        text = _plural(seconds // (86_400 * 30), "month")
    else:
        text = _plural(seconds // (86_400 * 365), "year")
    return f"in {text}" if future else f"{text} ago"


register.filter("reltime", relative_time)


def lead_lag(value, reference):
    """How much earlier or later ``value`` is than ``reference``: "4 h earlier", "25 min later", "3 days later".

    Minutes under an hour, hours up to 48, days past that; under a minute is "same time".
    """
    if not value or not reference:
        return ""
    seconds = int((value - reference).total_seconds())
    later, seconds = seconds > 0, abs(seconds)
    if seconds < 60:
        return "same time"
    if seconds < 3600:
        amount = f"{seconds // 60} min"
    elif seconds < 48 * 3600:
        amount = f"{seconds // 3600} h"
    else:
        amount = _plural(seconds // 86_400, "day")
    return f"{amount} {'later' if later else 'earlier'}"


register.filter("lag", lead_lag)


def day_label(day, today):
    """ "Today", "Yesterday", or the date: "Thursday 11 June 2020"."""
    if day == today:
        return "Today"
    if day == today - datetime.timedelta(days=1):
        return "Yesterday"
    return f"{day:%A} {day.day} {day:%B %Y}"


@register.filter
def utc(value):
    """A datetime for readers: "11 June 2020, 02:01 UTC" (the site's time zone)."""
    return _readers_time(timezone.localtime(value)) if value else ""


def _readers_time(local):
    return f"{local.day} {local:%B %Y, %H:%M} {local.tzname()}"


@register.filter
def iso(value):
    return timezone.localtime(value).isoformat() if value else ""


# Safe: a constant.
_NO_TIME = SafeString('<time datetime=""></time>')  # nosec B703


@register.simple_tag
def timestamp(value):
    """A ``<time>`` element: the machine-readable ``iso`` time in its attribute, the reader's ``utc`` time as text.

    Built with plain ``html.escape`` (what Django's escape does) rather than ``format_html``:
    a list page shows dozens of these.
    """
    if not value:
        return _NO_TIME
    local = timezone.localtime(value)
    # The attribute in UTC, whatever the site's zone: static/js/site.js rewrites the text in the reader's zone.
    moment = value.astimezone(datetime.UTC).isoformat()
    # Safe: both values are escaped.
    return SafeString(f'<time datetime="{html.escape(moment)}">{html.escape(_readers_time(local))}</time>')  # nosec B703


@register.simple_tag
def time_zone_name():
    """The zone every server-rendered time is in ("UTC"): pages say so, the script says the reader's instead."""
    return timezone.get_current_timezone_name()


# --- forms --------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _options_markup(choices):
    """The ``<option>`` elements of a tuple of (value, label) choices, none selected."""
    return "".join(
        f'<option value="{html.escape(str(value))}">{html.escape(str(label))}</option>' for value, label in choices
    )


@register.simple_tag
def select(field):
    """A ``<select>`` for a bound choice field, with its error and help text linked for screen readers.

    Options are joined with plain ``html.escape`` (what Django's escape does) rather
    than one ``format_html`` each: an outlet list runs to hundreds of options.
    """
    multiple = field.field.widget.allow_multiple_selected
    current = field.value()
    chosen = [str(value) for value in current or ()] if multiple else ["" if current is None else str(current)]
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_helptext")
    if field.errors:
        described.append(f"{field.auto_id}_error")
    attrs = f' aria-describedby="{html.escape(" ".join(described))}"' if described else ""
    if field.errors:
        attrs += ' aria-invalid="true"'
    if multiple:
        attrs += ' multiple size="6"'
    options = _options_markup(tuple(field.field.choices))
    for value in filter(None, chosen):  # mark the chosen options: values are unique, so the first match is it
        option = f'<option value="{html.escape(value)}">'
        options = options.replace(option, f"{option[:-1]} selected>", 1)
    # Safe: every value above is escaped.
    return SafeString(  # nosec B703
        f'<select name="{html.escape(field.html_name)}" id="{html.escape(field.auto_id)}"{attrs}>{options}</select>'
    )


@register.simple_tag
def site_link(name):
    """The address of one of the site's own pages (``stories:<name>``, no arguments).

    The header and footer of every page link to the same few pages.
    """
    return _reverse_once(get_script_prefix(), f"stories:{name}")


@register.filter
def provider_url(slug):
    """An outlet's page address from its slug; "" when the slug cannot make one."""
    try:
        return _reverse_once(get_script_prefix(), "stories:provider_detail", slug)
    except NoReverseMatch:
        return ""


@register.simple_tag
def outlet_count(count, slugs=()):
    """The one count of a story's outlets, the lead's included, on cards and story pages: "Reported by 3 outlets".

    ``data-outlets`` names the outlets counted, so that the script can take out the
    ones a reader muted in the browser (and ``data-outlet-count`` is where it starts).
    """
    number = attribute_text(count)
    # Safe: every value is escaped.
    return SafeString(  # nosec B703
        f'<span class="outlet-count" data-outlet-count="{number}" data-outlets="{attribute_text(" ".join(slugs))}">'
        f"Reported by {number} outlet{'' if count == 1 else 's'}</span>"
    )


@register.simple_tag
def outlet_link(name, slug):
    """An outlet's name as a link to its page; the name alone (escaped) when ``slug`` makes no address."""
    url = provider_url(slug)
    # Safe: the values are escaped.
    if not url:
        return SafeString(attribute_text(name))  # nosec B703
    return SafeString(f'<a href="{attribute_text(url)}">{attribute_text(name)}</a>')  # nosec B703


@functools.lru_cache(maxsize=4096)  # reverse() costs tens of microseconds; a page asks for dozens
def _reverse_once(script_prefix, viewname, slug=None):
    return reverse(viewname, kwargs={"slug": slug} if slug is not None else None)


# --- pictures -----------------------------------------------------------------


@register.filter
def dimensions(image):
    """The ``width`` and ``height`` attributes of a picture (a dict: url, width, height); none unless both are set."""
    width, height = (image.get("width"), image.get("height")) if isinstance(image, dict) else (None, None)
    if not (width and height):
        return ""
    return format_html(' width="{}" height="{}"', formats.localize(width), formats.localize(height))


# --- languages ----------------------------------------------------------------


# Safe: a constant.
_DIR_AUTO = SafeString(' dir="auto"')  # nosec B703


@register.filter
def lang(article):
    """The attributes of an article's headline or excerpt in its own language.

    ``lang`` when the language is known (else the page's English holds). ``dir="auto"`` always:
    an Arabic or Hebrew headline reads right to left, and the element is isolated, so a stray
    direction control in the text (U+202E turns what follows backwards) stays inside it.
    """
    code = article.language
    if code == UNKNOWN_LANGUAGE:
        return _DIR_AUTO
    # Safe: the code is escaped.
    return SafeString(f' lang="{attribute_text(code)}" dir="auto"')  # nosec B703
