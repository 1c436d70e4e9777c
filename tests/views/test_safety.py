"""What outlets send is shown as text: no markup from a title runs, only http(s) URLs become links."""

import json
import re

import pytest

from stories.models import Article
from stories.templatetags.reader import jsonld, safe_url
from tests.factories import make_provider, make_story
from tests.views.helpers import html, page, parse

pytestmark = pytest.mark.django_db

TITLE = "<script>alert('title')</script> Hostile <img src=x onerror=alert(1)>"


def test_markup_in_titles_and_excerpts_renders_as_text(client):
    hostile = make_provider("hostile.example.com", "<i>Hostile</i> Outlet")
    story = make_story(
        TITLE,
        provider=hostile,
        topics=["<b>Topic</b>"],
        lead={"excerpt": 'An excerpt with <svg onload=alert(2)> and "quotes"</script>'},
        coverage=[{"title": "<img src=x onerror=alert(3)>", "excerpt": '"><script>alert(4)</script>'}],
    )
    for url in ["/", story.get_absolute_url(), story.get_absolute_url() + "?order=time", "/search/?q=hostile"]:
        response = client.get(url)
        markup = html(response)
        assert "<script>alert" not in markup, url
        assert "<img src=x" not in markup and "<svg onload" not in markup and "<i>Hostile" not in markup, url
        shown = parse(markup)
        assert TITLE in shown.text, url  # the reader sees the title as it was written
        assert not shown.find_all("img", src="x") and not shown.find_all("i"), url
        assert all(svg.tokens("class") == {"chart"} for svg in shown.find_all("svg")), url  # only the site's charts
        scripts = shown.find_all("script")
        assert all("src" in script.attrs or script.get("type") == "application/ld+json" for script in scripts), url
    block = page(client.get(story.get_absolute_url())).find("script", type="application/ld+json").source
    assert "<" not in block and ">" not in block
    assert json.loads(block)["name"].startswith("<script>")


def test_only_http_urls_become_links_or_pictures(client):
    story = make_story(
        "Dangerous links",
        lead={"web_url": "https://safe.example.com/1", "amp_url": "https://safe.example.com/amp"},
        image={"url": "javascript:alert(1)", "width": 10, "height": 10},
        coverage=[{"title": "Coverage with a bad link"}],
    )
    Article.objects.filter(pk=story.lead_id).update(web_url="javascript:alert(1)", amp_url="data:text/html,x")
    coverage = story.coverage_items.get().article
    Article.objects.filter(pk=coverage.pk).update(web_url="JavaScript:alert(2)")
    make_story("Picture with data URL", image={"url": "data:image/svg+xml,<svg onload=alert(5)>", "width": 1})
    for url in ["/", story.get_absolute_url()]:
        markup = html(client.get(url)).lower()
        assert "javascript:" not in markup and "data:" not in markup, url
    shown = page(client.get(story.get_absolute_url()))
    assert "Coverage with a bad link" in shown.text  # shown as text, not as a link
    assert not shown.find_all("a", text=re.compile("Coverage with a bad link"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("http://example.com", "http://example.com"),
        ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
        ("javascript:alert(1)", ""),
        (" javascript:alert(1)", ""),
        ("java\tscript:alert(1)", ""),
        ("data:text/html,x", ""),
        ("//example.com/x", ""),
        ("/relative", ""),
        ("https://", ""),
        ("https://exa mple.com", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_safe_url(value, expected):
    assert safe_url(value) == expected


def test_jsonld_escapes_what_could_close_the_script():
    assert str(jsonld({"a": "</script><b>&"})) == '{"a":"\\u003C/script\\u003E\\u003Cb\\u003E\\u0026"}'


def test_no_inline_scripts_or_styles_for_the_content_security_policy(client, covered_story):
    for url in ["/", covered_story.get_absolute_url(), "/?min_quality=x"]:
        shown = page(client.get(url))
        scripts = shown.find_all("script")
        assert scripts and all(
            "src" in script.attrs or script.get("type") == "application/ld+json" for script in scripts
        ), scripts
        assert not shown.find_all(style=True) and not shown.find_all("style"), url
        handlers = [(element.tag, name) for element in shown.iter() for name in element.attrs if name.startswith("on")]
        assert not handlers, (url, handlers)
