"""Template helpers for muted outlets: ``{% load muting %}`` (stories/muting.py says what muting does), and the
same functions in the public pages' Jinja2 templates (stories/jinja2.py).

- ``{% mute_button provider %}``: a "Mute" button beside an outlet's name, hidden until the
  script (static/js/site.js) shows it: muting in the browser needs the script.
- ``{% mute_control %}``: "2 outlets muted", each with a link that unmutes it and one that
  unmutes them all, for the outlets the address mutes (``?mute=``); beside it, the empty
  frame the script fills in for the outlets muted in the browser.
"""

from django import template
from django.template.loader import render_to_string

# SafeString, not mark_safe, for the str built here: mark_safe first checks its argument for
# lazy text, which costs more than most of these helpers' own work (a page calls them hundreds
# of times). Each use says why its text is safe (tests/test_security.py checks that it does).
from django.utils.safestring import SafeString

from stories.directories import provider_directory
from stories.muting import muted_slugs, without_muted
from stories.templatetags.reader import attribute_text

register = template.Library()


@register.simple_tag
def mute_button(name, slug):
    """A button that mutes an outlet in the browser: hidden without the script, which shows it."""
    name = attribute_text(name)
    # Safe: both values are escaped.
    return SafeString(  # nosec B703
        f'<button type="button" class="link-button mute-button" data-mute="{attribute_text(slug)}" '
        f'data-mute-name="{name}" hidden>Mute<span class="visually-hidden"> {name}</span></button>'
    )


@register.simple_tag(takes_context=True)
def mute_control(context):
    """templates/includes/mute_control.html for the request in ``context`` (a Django or a Jinja2 one).

    Rendered through the template loader, not as an inclusion tag: the template is a
    Jinja2 one (stories/jinja2.py), which Django's engine cannot read.
    """
    markup = render_to_string("includes/mute_control.html", mute_control_context(context.get("request")))
    # Safe: rendered by our own template with autoescaping.
    return SafeString(markup)  # nosec B703


def mute_control_context(request):
    """What includes/mute_control.html shows: the outlets the address mutes, each with the address that unmutes it."""
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
