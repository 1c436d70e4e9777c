"""The templates: short lines, and the small tags that replace copied markup (``{% load reader %}``).

The public pages' templates are Jinja2 ones (templates/, stories/jinja2.py; tests/test_jinja2.py); the
tags here are the same functions, still loadable in Django's templates (the admin's, stories/templates/).
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.template import Context, Template

from stories.cards import RELTIME_MARK
from stories.templatetags.reader import dimensions, outlet_link, timestamp

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATES = PROJECT / "templates"  # Jinja2: the public pages
DJANGO_TEMPLATES = PROJECT / "stories" / "templates"  # Django's: the admin's overrides, the sitemaps
MAX_LINE = 150


def render(source, **context):
    return Template("{% load reader %}" + source).render(Context(context))


# --- layout ---------------------------------------------------------------------------------------


def test_no_template_line_is_longer_than_150_characters():
    files = sorted(path for folder in (TEMPLATES, DJANGO_TEMPLATES) for path in folder.rglob("*") if path.is_file())
    assert files
    long = [
        f"{path.relative_to(PROJECT)}:{number}: {len(line)} characters"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > MAX_LINE
    ]
    assert not long, "\n".join(long)


def test_xml_templates_start_with_the_xml_declaration():
    """Nothing, not even a newline, may come before ``<?xml``."""
    files = list(DJANGO_TEMPLATES.rglob("*.xml"))
    assert files
    for path in files:
        assert path.read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>\n'), path


def test_the_story_card_keeps_the_markers_the_card_cache_fills_in():
    """stories/cards.py puts the relative time in place of the mark and drops the first ` loading="lazy"`."""
    card = (TEMPLATES / "includes" / "story_card.html").read_text(encoding="utf-8")
    assert card.count(RELTIME_MARK) == 1
    assert card.count(' loading="lazy"') == 1


# --- {% timestamp %} ------------------------------------------------------------------------------


def test_timestamp_is_a_time_element_with_the_iso_time_and_the_readers_time():
    value = datetime(2020, 6, 11, 2, 1, 30, tzinfo=UTC)
    expected = '<time datetime="2020-06-11T02:01:30+00:00">11 June 2020, 02:01 UTC</time>'
    assert render("{% timestamp value %}", value=value) == expected
    assert timestamp(value) == expected


def test_timestamp_of_nothing_is_an_empty_time_element():
    assert render("{% timestamp value %}", value=None) == '<time datetime=""></time>'
    assert render("{% timestamp missing %}") == '<time datetime=""></time>'


# --- {% outlet_link %} ----------------------------------------------------------------------------


def test_outlet_link_links_the_name_to_the_outlets_page():
    assert render("{% outlet_link name slug %}", name="The Verge", slug="theverge-com") == (
        '<a href="/providers/theverge-com/">The Verge</a>'
    )


def test_outlet_link_escapes_the_name():
    html = render("{% outlet_link name slug %}", name='<b>"A&B"</b>', slug="ab")
    assert html == '<a href="/providers/ab/">&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;</a>'


@pytest.mark.parametrize("slug", ["", None, "not a slug!"])
def test_outlet_link_without_an_address_is_the_escaped_name_alone(slug):
    assert render("{% outlet_link name slug %}", name="<i>Outlet</i>", slug=slug) == "&lt;i&gt;Outlet&lt;/i&gt;"
    assert outlet_link("Plain", slug) == "Plain"


def test_outlet_link_output_is_not_escaped_twice():
    assert render("{% outlet_link name slug %}", name="A & B", slug="ab") == '<a href="/providers/ab/">A &amp; B</a>'


# --- dimensions -----------------------------------------------------------------------------------


def test_dimensions_are_the_width_and_height_attributes():
    assert render("<img{{ image|dimensions }}>", image={"url": "x", "width": 640, "height": 480}) == (
        '<img width="640" height="480">'
    )


@pytest.mark.parametrize(
    "image",
    [None, "", {"url": "x"}, {"width": 640}, {"width": 640, "height": 0}, {"width": None, "height": 480}],
)
def test_no_dimensions_unless_both_are_known(image):
    assert dimensions(image) == ""


def test_dimensions_are_escaped():
    assert dimensions({"width": '1"', "height": "<2>"}) == ' width="1&quot;" height="&lt;2&gt;"'
