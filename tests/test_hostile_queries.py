"""Hostile query strings (issue 14): no parameter of any public page or feed gives a 5xx.

A scanner's control characters, broken UTF-8, 100 KB values and repeated keys get a
400 page naming the parameter and the problem (stories/query_guard.py), or the page.
"""

import pytest
from django.test import Client

from stories.filters import StoryFilter
from stories.query_guard import PLURAL, SUBJECTS
from tests.factories import BASE_TIME, hours, make_provider, make_story

pytestmark = pytest.mark.django_db

LIST_PARAMS = ["q", "sort", *StoryFilter.base_filters, "after", "before"]
CURSOR = ["after", "before"]
CONTROLS = [chr(code) for code in range(0x20)] + ["\x7f"]
# Percent-encoded bytes that are no UTF-8 text: a lone surrogate (U+D800 as UTF-8 would
# write it), a stray continuation byte, a latin-1 byte, a truncated sequence.
BROKEN_UTF8 = ["%ED%A0%80", "%ED%BF%BF", "%80", "%FF", "%C3"]


@pytest.fixture
def site():
    globe = make_provider("globe.example.com", "Boston Globe")
    wire = make_provider("wire.example.com", "Tech Wire")
    story = make_story(
        "Face recognition moratorium",
        provider=globe,
        topics=["AI"],
        coverage=[{"title": "Wire covers it", "provider": wire}],
    )
    make_story("Older robot story", provider=wire, topics=["Robots"], published_at=BASE_TIME - hours(3))
    return story


def pages(story):
    """Every public page and feed, with the parameters it reads (and one it does not: utm_source)."""
    outlet = story.lead.provider.slug
    return {
        "/": LIST_PARAMS,
        "/search/": LIST_PARAMS,
        "/topics/": [],
        "/topics/ai/": LIST_PARAMS,
        "/providers/": CURSOR,
        f"/providers/{outlet}/": CURSOR,
        "/archive/2024/05/01/": CURSOR,
        story.get_absolute_url(): ["order"],
        "/feeds/latest.rss": [],
        "/feeds/latest.atom": [],
        "/feeds/topics/ai.rss": [],
        "/feeds/topics/ai.atom": [],
        f"/feeds/providers/{outlet}.rss": [],
        f"/feeds/providers/{outlet}.atom": [],
        "/feeds/search.rss": ["q", *StoryFilter.base_filters],
        "/feeds/search.atom": ["q", *StoryFilter.base_filters],
        "/sitemap.xml": ["p"],
        "/sitemap-stories.xml": ["p"],
        "/robots.txt": [],
    }


def encode(char):
    return "".join(f"%{byte:02X}" for byte in char.encode())


@pytest.fixture
def client():
    return Client(raise_request_exception=False)  # a 500 is a status to assert on, not an exception


def refused(response, subject, problem):
    """A rendered 400 page naming the parameter and its problem."""
    body = response.content.decode()
    assert response.status_code == 400, response.status_code
    assert "<h1>Bad request</h1>" in body and '<meta name="robots" content="noindex">' in body
    assert subject in body and problem in body, body[body.find("<h1>") :][:300]
    return body


def test_every_control_character_in_every_parameter_of_every_page_is_refused_by_name(client, site):
    for path, params in pages(site).items():
        assert client.get(path).status_code == 200, path
        for name in [*params, "utm_source"]:
            subject = SUBJECTS.get(name, f"The parameter “{name}”")
            verb = "hold" if name in PLURAL else "holds"
            for char in CONTROLS:
                response = client.get(f"{path}?{name}=abc{encode(char)}def")
                refused(response, subject, f"{verb} a control character (U+{ord(char):04X})")


def test_broken_utf8_and_lone_surrogates_are_refused_by_name(client, site):
    for path, params in pages(site).items():
        for name in [*params, "utm_source"]:
            subject = SUBJECTS.get(name, f"The parameter “{name}”")
            for raw in BROKEN_UTF8:
                refused(client.get(f"{path}?{name}=a{raw}b"), subject, "not valid UTF-8 text")


def test_what_the_scanner_sent_to_the_search_feeds_is_a_400_not_a_500(client, site):
    for feed in ("/feeds/search.rss", "/feeds/search.atom"):
        for query in ("q=abc%00", "q=%2Fetc%2Fpasswd%00&topic=diablo-4", "topic=ai&q=%00", "category=a%01"):
            response = client.get(f"{feed}?{query}")
            assert response.status_code == 400, (feed, query)
            assert "control character (U+000" in response.content.decode()


def test_bad_parameter_names_are_refused_too(client, site):
    refused(client.get("/?%00=1"), "A parameter name", "holds a control character (U+0000)")
    refused(client.get("/search/?q%1F=1"), "A parameter name", "holds a control character (U+001F)")
    refused(client.get("/feeds/search.rss?%FF=1"), "A parameter name", "is not valid UTF-8 text")
    refused(client.get("/?" + "x" * 2000 + "=1"), "A parameter name", "is too long")


def test_100_kb_values_are_refused_as_too_long(client, site):
    for path, params in pages(site).items():
        for name in params or ["utm_source"]:
            subject = SUBJECTS.get(name, f"The parameter “{name}”")
            body = refused(client.get(f"{path}?{name}={'a' * 100_000}"), subject, "too long (100,000 characters")
            assert "a" * 200 not in body, "the value is not echoed"
    many = "&".join(f"k{i}=v" for i in range(2_000))  # each short, together over the bound
    assert client.get(f"/?{many}").status_code == 400


def test_noncharacters_are_refused_and_real_text_is_not(client, site):
    refused(client.get("/search/?q=a%EF%BF%BF"), "The search words", "a character that text may not hold (U+FFFF)")
    for q in ("caf%C3%A9", "%E2%80%9Cquoted%E2%80%9D", "%F0%9F%A4%96", "%EF%BF%BD", "a+b", "100%25", "<script>"):
        assert client.get(f"/search/?q={q}").status_code == 200, q
        assert client.get(f"/feeds/search.rss?q={q}").status_code == 200, q


def test_the_400_page_does_not_echo_the_value_and_carries_the_security_headers(client, site):
    response = client.get("/search/?q=%3Cscript%3Ealert(1)%3C/script%3E%00")
    body = refused(response, "The search words", "control character (U+0000)")
    assert "<script>alert" not in body and "alert(1)" not in body
    assert response["X-Frame-Options"] == "DENY" and "default-src" in response["Content-Security-Policy"]
    assert response["Content-Type"].startswith("text/html")


def test_repeated_keys_never_give_a_5xx(client, site):
    outlet = site.lead.provider.slug
    for path, params in pages(site).items():
        for name in [*params, "utm_source"]:
            for first, second in (("ai", "robots"), ("", "x"), ("1", "1")):
                response = client.get(f"{path}?{name}={first}&{name}={second}")
                # Muted outlets given twice are redirected to their one ?mute=a,b form (stories/muting.py).
                expected = (200, 404, 301) if name == "mute" else (200, 404)
                assert response.status_code in expected, (path, name, response.status_code)
    # Django reads the last value, as the views and filters do.
    assert "Older robot story" in client.get("/?topic=ai&topic=robots").content.decode()
    assert "Face recognition" not in client.get("/?topic=ai&topic=robots").content.decode()
    response = client.get(f"/feeds/search.atom?q=x&q=moratorium&provider=nobody&provider={outlet}")
    assert response.status_code == 200 and "Face recognition moratorium" in response.content.decode()


def test_the_admin_is_not_guarded_and_still_answers(client, site):
    assert client.get("/admin/login/?next=/admin/%00").status_code == 200
