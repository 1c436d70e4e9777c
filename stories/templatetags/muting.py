"""Template helpers for muted outlets: ``{% load muting %}`` (stories/muting.py says what muting does).

- ``{% mute_button provider %}``: a "Mute" button beside an outlet's name, hidden until the
  script (static/js/site.js) shows it: muting in the browser needs the script.
- ``{% mute_control %}``: "2 outlets muted", each with a link that unmutes it and one that
  unmutes them all, for the outlets the address mutes (``?mute=``); beside it, the empty
  frame the script fills in for the outlets muted in the browser.
"""

from django import template
from django.utils.html import format_html

from stories.directories import provider_directory
from stories.muting import muted_slugs, without_muted

register = template.Library()


@register.simple_tag
def mute_button(name, slug):
    """A button that mutes an outlet in the browser: hidden without the script, which shows it."""
    return format_html(
        '<button type="button" class="link-button mute-button" data-mute="{}" data-mute-name="{}" hidden>'
        'Mute<span class="visually-hidden"> {}</span></button>',
        slug,
        name,
        name,
    )


@register.inclusion_tag("includes/mute_control.html", takes_context=True)
def mute_control(context):
    request = context.get("request")
    muted = muted_slugs(request.GET) if request is not None else ()
    if not muted:
        return {"muted": []}
    names = {provider["slug"]: provider["name"] for provider in provider_directory()}
    return {
        "muted": [
            {"slug": slug, "name": names.get(slug, slug), "unmute_url": without_muted(request, {slug})}
            for slug in muted
        ],
        "unmute_all_url": without_muted(request, set(muted)),
    }
