"""The Jinja2 environment of the public pages (TEMPLATES in newsreader/settings.py; the admin stays on Django's).

Why Jinja2: with the page cache off, Django's template engine was about a third of
a page's CPU time; Jinja2 compiles templates to Python and renders the same pages
in a fraction of that. The helpers stay the ones of ``{% load reader %}`` and
``{% load muting %}`` (stories/templatetags/): Django's safe strings have
``__html__``, so what ``format_html`` and ``mark_safe`` built is not escaped twice,
and everything else is (autoescaping is the backend's default and stays on).

What the templates get beyond Jinja2's own:

- globals: ``static``, ``url(name, *args)``, ``site_link``, ``querystring(**changes)``
  (Django's ``{% querystring %}``), ``timestamp``, ``time_zone_name``, ``outlet_count``,
  ``outlet_link``, ``mute_button``, ``mute_control()``, ``select``;
- filters: ``safe_url``, ``picture_url``, ``jsonld``, ``reltime``, ``lag``, ``utc``, ``iso``,
  ``dimensions``, ``lang``, ``provider_url``, and Django's ``date``, ``pluralize``,
  ``truncatewords`` and ``urlencode``;
- ``{% cache timeout name vary_on... %}``: Django's fragment cache, same keys.
"""

from collections.abc import Iterable

import jinja2
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils.timezone import template_localtime
from jinja2.ext import Extension
from markupsafe import Markup

from stories.templatetags import muting, reader


def url(viewname, *args):
    """``{% url viewname arg ... %}``: the address of a page with positional arguments."""
    return reverse(viewname, args=args)


@jinja2.pass_context
def querystring(context, **changes):
    """Django's ``{% querystring %}``: the request's query string with ``changes`` (None removes a key)."""
    query = context["request"].GET
    params = query.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        elif isinstance(value, Iterable) and not isinstance(value, str):
            params.setlist(key, value)
        else:
            params[key] = value
    if not params and not query:
        return ""
    return f"?{params.urlencode()}"


@jinja2.pass_context
def mute_control(context):
    """``{% mute_control %}``: the muted outlets, from the request in the page's context."""
    return muting.mute_control(context)


def date(value, format_string=None):
    """Django's ``date`` filter, times first put in the site's zone (as Django's templates do)."""
    return defaultfilters.date(template_localtime(value), format_string)


class FragmentCacheExtension(Extension):
    """``{% cache 300 "name" vary_on... %}...{% endcache %}``: Django's ``{% cache %}`` tag.

    Same cache (``template_fragments`` is not configured: the default one), same
    keys (``make_template_fragment_key``), so the same things renew it: a key that
    holds the content generation is new after every content change.
    """

    tags = {"cache"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        timeout = parser.parse_expression()
        name = parser.parse_expression()
        vary_on = []
        while parser.stream.current.type != "block_end":
            vary_on.append(parser.parse_expression())
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        call = self.call_method("_cached", [timeout, name, jinja2.nodes.List(vary_on)])
        return jinja2.nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _cached(self, timeout, name, vary_on, caller):
        key = make_template_fragment_key(name, vary_on)
        value = cache.get(key)
        if value is None:
            value = str(caller())
            cache.set(key, value, int(timeout))
        # Safe: rendered by these templates, with autoescaping.
        return Markup(value)  # noqa: S704  # nosec


def environment(**options):
    """The Jinja2 environment of templates/: the backend's options, the helpers above, the fragment cache.

    A missing value prints as nothing, as in Django's templates, whatever DEBUG says:
    the backend's DEBUG default (``DebugUndefined``) would print the variable's name
    into the page, which then differs from production's.
    """
    options["undefined"] = jinja2.Undefined
    options.setdefault("keep_trailing_newline", True)  # as Django's templates: the same HTML, byte for byte
    options["extensions"] = [*options.get("extensions", ()), FragmentCacheExtension]
    options.pop("autoescape", None)  # on, whatever the settings say
    env = jinja2.Environment(autoescape=True, **options)
    env.globals.update(
        {
            "static": static,
            "url": url,
            "site_link": reader.site_link,
            "querystring": querystring,
            "timestamp": reader.timestamp,
            "time_zone_name": reader.time_zone_name,
            "outlet_count": reader.outlet_count,
            "outlet_link": reader.outlet_link,
            "mute_button": muting.mute_button,
            "mute_control": mute_control,
            "select": reader.select,
        }
    )
    env.filters.update(
        {
            "safe_url": reader.safe_url,
            "picture_url": reader.picture_url,
            "jsonld": reader.jsonld,
            "reltime": reader.relative_time,
            "lag": reader.lead_lag,
            "utc": reader.utc,
            "iso": reader.iso,
            "dimensions": reader.dimensions,
            "lang": reader.lang,
            "provider_url": reader.provider_url,
            "date": date,
            "pluralize": defaultfilters.pluralize,
            "truncatewords": defaultfilters.truncatewords,
            "urlencode": defaultfilters.urlencode,
        }
    )
    return env
