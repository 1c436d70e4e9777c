"""The public pages' Jinja2 templates (stories/jinja2.py): every one renders through the Jinja2 engine, with
autoescaping on; the admin's and the sitemaps' templates stay Django's."""

from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.template import Context, Template, TemplateDoesNotExist, engines
from django.template.backends.jinja2 import Jinja2
from django.template.loader import get_template
from django.test import RequestFactory

from stories import views
from stories.caching import bump_generation, generation
from tests.factories import BASE_TIME, hours, make_provider, make_story
from tests.views.helpers import html, parse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PUBLIC_TEMPLATES = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html"))
HOSTILE_TITLE = "<script>alert('headline')</script> & more"


def jinja2():
    return engines["jinja2"]


@pytest.fixture
def rendered_templates(monkeypatch):
    """The names of the templates the Jinja2 engine reads while the test runs (its cache emptied first)."""
    environment = jinja2().env
    environment.cache.clear()
    names = set()
    read = environment.loader.get_source

    def recording(env, name):
        names.add(name)
        return read(env, name)

    monkeypatch.setattr(environment.loader, "get_source", recording)
    yield names
    environment.cache.clear()


@pytest.fixture
def site():
    """Stories that take every template's every branch: coverage (an outlet with several items),
    pictures (one credited to another outlet), topics, related stories, more than one page."""
    lead_outlet = make_provider("lead.example.com", "Lead Outlet")
    other = make_provider("other.example.com", "Other Outlet")
    picture = {"url": "https://cdn.example.com/a.jpg", "width": 640, "height": 480}
    story = make_story(
        HOSTILE_TITLE,
        provider=lead_outlet,
        published_at=BASE_TIME,
        topics=["AI", "Robots"],
        lead={"images": [picture], "amp_url": "https://lead.example.com/amp/1"},
        coverage=[
            {"title": "Other's best", "provider": other, "published_at": BASE_TIME + hours(1), "quality": 90},
            {"title": "Other's second", "provider": other, "published_at": BASE_TIME - hours(1), "quality": 10},
        ],
    )
    make_story(
        "A credited picture",
        published_at=BASE_TIME - hours(30),
        topics=["AI"],
        coverage=[{"title": "With the picture", "provider": other, "images": [picture]}],
    )
    return story


def test_every_public_template_is_read_by_the_jinja2_engine_only():
    assert PUBLIC_TEMPLATES
    for name in PUBLIC_TEMPLATES:
        assert isinstance(get_template(name).backend, Jinja2), name
        with pytest.raises(TemplateDoesNotExist):
            engines["django"].get_template(name)


@pytest.mark.parametrize(
    "name",
    [
        "admin/stories/takedown.html",
        "admin/stories/story/change_list.html",
        "admin/stories/article/change_form.html",
        "sitemaps/urlset.xml",
        "sitemaps/index.xml",
    ],
)
def test_the_admin_and_sitemap_templates_are_django_ones(name):
    assert engines["django"].get_template(name)
    with pytest.raises(TemplateDoesNotExist):
        jinja2().get_template(name)


def test_every_public_template_renders_and_escapes_a_hostile_headline(client, site, monkeypatch, rendered_templates):
    monkeypatch.setattr(views, "PER_PAGE", 1)  # every list has a second page: the pagination renders
    day = "/archive/2024/5/1/"
    story = site.get_absolute_url()
    for url in [
        "/",
        "/?sort=top",
        "/?topic=ai&mute=other-example-com",
        "/?since=not-a-date",
        "/search/",
        "/search/?q=picture",
        "/search/?q=more&provider=lead-example-com",
        "/search/?topic=ai",
        "/topics/",
        "/topics/ai/",
        "/providers/",
        "/providers/lead-example-com/",
        "/providers/other-example-com/covered/",
        "/archive/2024/",
        "/archive/2024/5/",
        day,
        story,
        f"{story}?order=time&mute=nobody-example-com",
    ]:
        markup = html(client.get(url))
        assert "<script>alert" not in markup, url
        if url in (day, story, "/providers/lead-example-com/"):  # the reader sees the headline as it was written
            assert HOSTILE_TITLE in parse(markup).text, url
    assert client.get("/no/such/page/").status_code == 404
    assert client.get("/?q=%00").status_code == 400
    assert get_template("500.html").render()
    assert rendered_templates == set(PUBLIC_TEMPLATES), set(PUBLIC_TEMPLATES) ^ rendered_templates


def test_autoescaping_is_on_and_safe_strings_are_not_escaped_twice():
    template = jinja2().from_string("{{ text }} {{ outlet_link(name, slug) }}")
    assert template.render({"text": "<b>&</b>", "name": "A & B", "slug": "ab"}) == (
        '&lt;b&gt;&amp;&lt;/b&gt; <a href="/providers/ab/">A &amp; B</a>'
    )


def test_a_missing_value_prints_as_nothing_whatever_debug_says(settings):
    """The backend's DEBUG default would print ``{{ missing }}`` into the page (the search box's ``q``, say)."""
    settings.DEBUG = True
    options = next(engine for engine in settings.TEMPLATES if engine["BACKEND"].endswith("Jinja2"))["OPTIONS"]
    debug_engine = Jinja2({"NAME": "debug", "DIRS": [], "APP_DIRS": False, "OPTIONS": options})
    assert debug_engine.from_string("[{{ missing }}]").render({}) == "[]"


def test_the_unfiltered_filter_fields_are_cached_under_djangos_key_and_renewed_by_a_content_change(client, site):
    client.get("/")
    key = make_template_fragment_key("filter_fields", [generation(), "home"])
    fields = cache.get(key)
    assert fields and 'name="topic"' in fields
    bump_generation()
    client.get("/")
    assert cache.get(make_template_fragment_key("filter_fields", [generation(), "home"]))


def test_the_fragment_cache_keeps_what_it_rendered():
    template = jinja2().from_string('{% cache 60 "test_fragment" a b %}<i>{{ text }}</i>{% endcache %}')
    assert template.render({"a": 1, "b": "x", "text": "<first>"}) == "<i>&lt;first&gt;</i>"
    assert template.render({"a": 1, "b": "x", "text": "second"}) == "<i>&lt;first&gt;</i>"
    assert template.render({"a": 2, "b": "x", "text": "second"}) == "<i>second</i>"


def test_the_mute_control_tag_still_works_in_django_templates():
    request = RequestFactory().get("/?mute=gone-example-com")
    markup = Template("{% load muting %}{% mute_control %}").render(Context({"request": request}))
    assert parse(markup).find("strong").text == "1 outlet muted"


def test_the_helpers_give_the_same_markup_in_both_engines():
    values = {
        "when": BASE_TIME,
        "name": "A & <B>",
        "slug": "a-b",
        "slugs": ["a-b", "c"],
        "image": {"url": "https://cdn.example.com/a.jpg", "width": 640, "height": 480},
    }
    django_markup = Template(
        "{% load reader muting %}{% timestamp when %}|{% outlet_link name slug %}|{% outlet_count 2 slugs %}|"
        "{% mute_button name slug %}|<img{{ image|dimensions }}>|{% time_zone_name %}"
    ).render(Context(values))
    jinja2_markup = (
        jinja2()
        .from_string(
            "{{ timestamp(when) }}|{{ outlet_link(name, slug) }}|{{ outlet_count(2, slugs) }}|"
            "{{ mute_button(name, slug) }}|<img{{ image|dimensions }}>|{{ time_zone_name() }}"
        )
        .render(values)
    )
    assert jinja2_markup == django_markup
