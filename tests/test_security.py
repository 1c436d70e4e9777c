"""Security on real responses: headers on every page, production transport security,
hostile content that never executes, open redirects, CSRF, bad Host headers,
login throttling, and what bandit's exceptions say.

Each check goes through Django's test client (the whole middleware stack), or a
subprocess where the settings must be computed from production environment variables.
"""

import io
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from stories.models import Provider, Story, Topic
from tests.dbutil import PROJECT, manage_env, scratch_database
from tests.factories import make_provider, make_story

DATA = Path(__file__).resolve().parent / "data"
LOGIN = "/admin/login/"
PASSWORD = "A-long-test-password-4711"

# --- helpers ------------------------------------------------------------------


def csp_directives(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    policy = response.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            assert words[0] not in directives, f"directive {words[0]} given twice"
            directives[words[0].lower()] = words[1:]
    return directives


def assert_security_headers(response):
    """The headers every response carries, whatever its status."""
    where = f"{response.request['PATH_INFO']} ({response.status_code})"
    csp = csp_directives(response)
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where
    assert "unsafe-hashes" not in policy and "strict-dynamic" not in policy, where
    assert csp["default-src"] in (["'none'"], ["'self'"]), where
    # Scripts and styles only from this origin (or nothing): never a wildcard or a scheme.
    for directive in ("script-src", "style-src"):
        assert set(csp.get(directive, csp["default-src"])) <= {"'self'", "'none'"}, (where, directive)
    assert "https:" in csp["img-src"] and "'self'" in csp["img-src"], where
    assert not {"*", "http:", "data:", "blob:"} & set(csp["img-src"]), where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["base-uri"] == ["'none'"], where
    assert csp["object-src"] == ["'none'"], where
    assert csp["form-action"] == ["'self'"], where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] in {"strict-origin-when-cross-origin", "same-origin", "no-referrer"}, where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    # The legacy header, for old browsers; CSP frame-ancestors is the rule (a 400 raised before
    # XFrameOptionsMiddleware runs has only that one).
    assert response.get("X-Frame-Options", "DENY") == "DENY", where


def csrf_token(response):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "the page has no CSRF token"
    return match.group(1)


def post_login(client, username, password=PASSWORD, next_url=None, **extra):
    """Log in through the real admin form (GET for the token, then POST)."""
    query = {"next": next_url} if next_url is not None else {}
    page = client.get(LOGIN, query, **extra)
    assert page.status_code == 200
    data = {"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(page)}
    if next_url is not None:
        data["next"] = next_url
    path = LOGIN + (f"?next={next_url}" if next_url is not None else "")
    return client.post(path, data, **extra)


def is_same_site(location):
    """True if a redirect target stays on this site: a path, never another host, however spelled."""
    if not location:
        return False
    normalized = location.replace("\\", "/")
    stripped = normalized.lstrip("".join(chr(c) for c in range(33)))
    if stripped.startswith("//"):
        return False
    parts = urlsplit(stripped)
    return (
        parts.netloc in ("", "testserver")
        and parts.scheme in ("", "http", "https")
        and stripped.startswith(("/", "http://testserver/", "https://testserver/"))
    )


@pytest.fixture
def site(db):
    """One published story with coverage, a topic and an outlet: every public page type has content."""
    globe = make_provider("globe.example.com", "Boston Globe")
    wire = make_provider("wire.example.com", "Tech Wire")
    story = make_story(
        "Face recognition moratorium",
        provider=globe,
        topics=["AI"],
        coverage=[{"title": "Wire covers it", "provider": wire}],
        image={"url": "https://cdn.globe.example.com/a.jpg", "width": 1200, "height": 630},
        secured="site-secured-value-never-shown",
    )
    return story


def public_urls(story):
    provider = story.lead.provider.slug
    return [
        "/",
        "/?sort=top",
        story.get_absolute_url(),
        story.get_absolute_url() + "?order=time",
        "/topics/",
        "/topics/ai/",
        "/providers/",
        f"/providers/{provider}/",
        "/search/",
        "/search/?q=moratorium",
        "/archive/2024/05/01/",
        "/feeds/latest.rss",
        "/feeds/latest.atom",
        "/feeds/topics/ai.rss",
        f"/feeds/providers/{provider}.atom",
        "/feeds/search.rss?q=moratorium",
        "/sitemap.xml",
        "/sitemap-stories.xml",
        "/robots.txt",
    ]


# --- headers on every page ----------------------------------------------------


def test_every_public_page_carries_the_security_headers_fresh_and_from_the_cache(client, site):
    for url in public_urls(site):
        for attempt in ("fresh", "cached"):
            response = client.get(url)
            assert response.status_code == 200, (url, attempt)
            assert_security_headers(response)
            assert response["X-Frame-Options"] == "DENY", url


def test_error_and_redirect_responses_carry_the_security_headers_too(client, site):
    responses = {
        "404 page": client.get("/no-such-page/"),
        "404 story": client.get("/story/999999-nothing/"),
        "301 short link": client.get(f"/story/{site.pk}/"),
        "301 wrong slug": client.get(f"/story/{site.pk}-old-slug/"),
        "405 POST": client.post("/"),
        "400 bad host": client.get("/", HTTP_HOST="evil.example"),
    }
    expected = {"404 page": 404, "404 story": 404, "301 short link": 301, "301 wrong slug": 301}
    expected.update({"405 POST": 405, "400 bad host": 400})
    for name, response in responses.items():
        assert response.status_code == expected[name], name
        assert_security_headers(response)


def test_a_server_error_page_carries_the_security_headers(site):
    client = Client(raise_request_exception=False)
    with mock.patch("stories.views.topic_directory", side_effect=RuntimeError("boom")):
        response = client.get("/topics/")
    assert response.status_code == 500
    assert_security_headers(response)
    assert "boom" not in response.content.decode() and "Traceback" not in response.content.decode()


def test_the_admin_pages_carry_the_security_headers(db):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client(enforce_csrf_checks=True)
    assert_security_headers(client.get(LOGIN))
    assert_security_headers(client.get("/admin/"))  # the redirect to the login
    assert post_login(client, "root").status_code == 302
    for url in ("/admin/", "/admin/stories/story/", "/admin/stories/story/?published__exact=0"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response)


def test_pages_use_no_inline_script_style_or_event_handler(client, site):
    """The policy forbids inline code: the pages must not need any (JSON-LD is data, not code)."""
    for url in [u for u in public_urls(site) if not u.startswith(("/feeds/", "/sitemap", "/robots"))] + [LOGIN]:
        response = client.get(url)
        page = parse_html(response.content.decode())
        assert not page.inline_scripts, url
        assert not page.inline_styles, url
        assert not page.style_attributes, (url, page.style_attributes[:3])
        assert not page.event_handlers, url


# --- production mode: HSTS, secure cookies, HTTPS redirect --------------------

PRODUCTION_SCRIPT = """
import json, re, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.conf import settings

get_user_model().objects.create_superuser("root", "root@example.com", sys.argv[1])
result = {"settings": {"DEBUG": settings.DEBUG}}

def cookies(response):
    return {name: morsel.OutputString() for name, morsel in response.cookies.items()}

def describe(response):
    return {"status": response.status_code, "headers": dict(response.headers), "cookies": cookies(response)}

plain = Client()
result["http_home"] = describe(plain.get("/story/1/?x=1"))
result["http_admin"] = describe(plain.get("/admin/login/"))
result["http_post"] = describe(plain.post("/admin/login/", {"username": "root"}))

proxy = {"HTTP_X_FORWARDED_PROTO": "https"}  # what the TLS proxy in front sends
client = Client(enforce_csrf_checks=True)
result["home"] = describe(client.get("/", **proxy))
login_page = client.get("/admin/login/", **proxy)
result["login_page"] = describe(login_page)
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.content.decode()).group(1)
response = client.post(
    "/admin/login/?next=/admin/",
    {"username": "root", "password": sys.argv[1], "csrfmiddlewaretoken": str(token), "next": "/admin/"},
    HTTP_REFERER="https://testserver/admin/login/",
    **proxy,
)
result["login"] = describe(response)
result["admin"] = describe(client.get("/admin/", **proxy))
secure = Client()
result["secure_home"] = describe(secure.get("/", secure=True))  # https straight to the server
print(json.dumps(result))
"""

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "p9Lr2vX8qT4mZ6wB1nC7kD3fH5jS0aE2yU7iO9pL4qM8wN1xZ6vT3rG5hJ0kF2dQ",
    "DJANGO_ALLOWED_HOSTS": "testserver",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://testserver",
    "DJANGO_PLAIN_STATIC": "true",  # no collectstatic manifest needed for this check
    "PAGE_CACHE_SECONDS": "0",
}


def cookie_attributes(set_cookie):
    """'name=value; Path=/; Secure; HttpOnly; SameSite=Lax' -> {'path': '/', 'secure': True, ...}."""
    attributes = {}
    for part in set_cookie.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value or True
    return attributes


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_production_mode_sends_hsts_redirects_http_and_marks_cookies_secure(tmp_path):
    with scratch_database(tmp_path) as url:
        env = manage_env(url, **PRODUCTION_ENV)
        env.pop("DJANGO_SECURE_SSL", None)  # the default: on when debug is off
        result = subprocess.run(
            [sys.executable, "-c", PRODUCTION_SCRIPT, PASSWORD],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["settings"]["DEBUG"] is False

    # Plain HTTP is sent to HTTPS, same host and path, before any view runs (no cookie, no CSRF check).
    assert data["http_home"]["status"] == 301
    assert data["http_home"]["headers"]["Location"] == "https://testserver/story/1/?x=1"
    assert data["http_admin"]["headers"]["Location"] == "https://testserver/admin/login/"
    assert data["http_post"]["status"] == 301 and not data["http_post"]["cookies"]

    for name in ("home", "login_page", "login", "admin", "secure_home"):
        response = data[name]
        headers = response["headers"]
        assert response["status"] in (200, 302), (name, response["status"])
        hsts = headers.get("Strict-Transport-Security", "")
        assert re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts), (name, hsts)
        assert int(hsts.split(";")[0].split("=")[1]) >= 31536000
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Referrer-Policy"]
    assert data["home"]["status"] == 200 and data["home"]["cookies"] == {}  # anonymous reading sets no cookie

    csrf = cookie_attributes(data["login_page"]["cookies"]["csrftoken"])
    assert data["login"]["status"] == 302 and data["login"]["headers"]["Location"] == "/admin/"
    session = cookie_attributes(data["login"]["cookies"]["sessionid"])
    assert data["admin"]["status"] == 200  # the session cookie works over HTTPS
    for name, attributes in (("csrftoken", csrf), ("sessionid", session)):
        assert attributes.get("secure") is True, (name, attributes)
        assert attributes.get("httponly") is True, (name, attributes)
        assert attributes.get("samesite") == "Lax", (name, attributes)
        assert attributes.get("path") == "/", (name, attributes)


# --- hostile content, imported and published ----------------------------------

# A second hostile document, valid in every field: markup in every text field,
# quotes and angle brackets in URLs (which stay http(s) URLs), template syntax.
HOSTILE_2 = r"""---
category: "<script>alert('category')</script>"
title: "\"><script>alert('attr')</script><a href=\"javascript:alert(7)\">click</a> second hostile headline"
excerpt: "</textarea></title><script>alert(8)</script> &lt;i&gt;x&lt;/i&gt; {{ 7*7 }} <style>body{color:red}</style>"
publishedDateTime: 2021-03-12T10:00:00Z
webUrl: "https://hostile2.example.com/a?q=\"><script>alert(9)</script>&x='onmouseover='alert(10)"
ampWebUrl: "https://hostile2.example.com/amp\"onclick=\"alert(11)\""
quality: 40
published: false
provider:
  name: "</script><script>alert('outlet')</script> Outlet"
  domain: hostile2.example.com
topics:
  - "<img src=x onerror=alert('topic')> Topic"
  - "Quoted\" onmouseover=\"alert(12)"
related:
  - title: "<iframe src=javascript:alert(13)></iframe> covered"
    excerpt: "<a href='vbscript:msgbox(14)'>v</a> <object data=x></object>"
    publishedDateTime: 2021-03-12T09:00:00Z
    webUrl: "https://cover2.example.net/x'><svg/onload=alert(15)>"
    quality: 30
    provider:
      name: "<svg onload=alert(16)> Cover"
      domain: cover2.example.net
    images:
      - url: "https://img.example.net/i.jpg\"onerror=\"alert(17)\""
        width: 10
        height: 10
  - title: "Image item"
    publishedDateTime: 2021-03-12T11:00:00Z
    webUrl: "https://cover3.example.org/item/"
    provider:
      name: Plain Cover
      domain: cover3.example.org
    images:
      - url: "https://img.example.org/ok.jpg?a=1&b=\"><img/src=x/onerror=alert(18)>"
        width: 10
        height: 10
secured: "secured-hostile-value-never-shown-2"
---
"""

# Markup from the documents that must never reach a page as markup (its escaped text is fine).
RAW_MARKUP = [
    "<script>alert",
    "<img src=x",
    "<img/src",
    "<svg onload",
    "<svg/onload",
    "<iframe",
    "<object data",
    "<style>body",
    "<b>bold</b>",
    "<em>markup</em>",
    "<i>Hostile</i>",
    "<a href='vbscript",
    '<a href="javascript',
    "</textarea></title>",
]
SECRETS = ["secret-must-never-appear-e2e", "secured-hostile-value-never-shown-2"]
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "srcset", "xlink:href", "background", "cite"}


class PageParser(HTMLParser):
    """Collects what could run: tags, attributes, script and style contents."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.event_handlers, self.style_attributes = [], [], [], []
        self.inline_scripts, self.jsonld, self.inline_styles, self.text = [], [], [], []
        self.meta_refresh = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
            if name.startswith("on"):
                self.event_handlers.append((tag, name, value))
            if name == "style":
                self.style_attributes.append((tag, value))
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            self.meta_refresh.append(attributes.get("content"))
        if tag == "script":
            kind = (attributes.get("type") or "").lower()
            self._in = "jsonld" if kind == "application/ld+json" else ("script" if "src" not in attributes else None)
            if self._in == "script":
                self.inline_scripts.append("")
            elif self._in == "jsonld":
                self.jsonld.append("")
        elif tag == "style":
            self._in = "style"
            self.inline_styles.append("")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._in = None

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.inline_scripts[-1] += data
        elif self._in == "jsonld":
            self.jsonld[-1] += data
        elif self._in == "style":
            self.inline_styles[-1] += data
        else:
            self.text.append(data)


def parse_html(text):
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return parser


def url_scheme_problem(value):
    """The dangerous scheme a URL attribute's value starts with, as a browser would read it, or None."""
    # Browsers drop leading spaces and control characters, and tabs/newlines anywhere in a scheme.
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", value).lower()
    return next((scheme for scheme in BAD_SCHEMES if cleaned.startswith(scheme)), None)


def assert_html_is_inert(text, where):
    """Nothing in ``text`` (an HTML page or an HTML fragment from a feed) can run code."""
    for marker in RAW_MARKUP:
        assert marker.lower() not in text.lower(), f"{where}: raw markup {marker!r}"
    page = parse_html(text)
    assert not page.event_handlers, f"{where}: event handler attributes {page.event_handlers[:3]}"
    assert not page.inline_scripts, f"{where}: inline script {page.inline_scripts[:1]}"
    assert not page.inline_styles, f"{where}: inline style element"
    assert not {"iframe", "object", "embed", "base", "frame", "applet"} & set(page.tags), where
    # The only SVG is the site's own charts (class "chart", drawn from escaped text), none from the data.
    charts = [value for tag, name, value in page.attributes if tag == "svg" and name == "class" and value == "chart"]
    assert page.tags.count("svg") == len(charts), f"{where}: an <svg> that is not one of the site's charts"
    for tag, name, value in page.attributes:
        if name in URL_ATTRIBUTES or name.endswith("url") or (tag == "meta" and name == "content"):
            candidates = value.split(",") if name == "srcset" else [value]
            for candidate in candidates:
                assert not url_scheme_problem(candidate), f"{where}: <{tag} {name}={value!r}>"
    assert not page.meta_refresh, f"{where}: meta refresh {page.meta_refresh}"
    for block in page.jsonld:
        assert "<" not in block and ">" not in block, f"{where}: JSON-LD holds < or >"
        data = json.loads(block)
        for url in re.findall(r'"(?:url|image|@id)":\s*"([^"]*)"', json.dumps(data)):
            assert not url_scheme_problem(url), f"{where}: JSON-LD URL {url!r}"
    return page


def assert_feed_is_inert(body, where):
    """An RSS or Atom feed: well-formed XML without raw markup; its HTML fields inert once decoded; links http(s) only.

    HTML fields: an RSS item's description, Atom elements typed html. Titles are plain
    text in both formats (the XML writer escapes them once): markup in a headline reaches
    a reader as the characters it is made of (test_feed_titles_carry_hostile_names_as_text).
    """
    for marker in RAW_MARKUP:
        assert marker.lower() not in body.lower(), f"{where}: raw markup {marker!r}"
    root = ET.fromstring(body)
    html_fields = [item.find("description") for item in root.iter("item")]
    html_fields += [element for element in root.iter() if element.get("type") in ("html", "xhtml")]
    for element in html_fields:
        if element is not None and element.text:
            assert_html_is_inert(element.text, f"{where} <{element.tag}>")
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        text = (element.text or "").strip()
        for value in [element.get("href"), element.get("url"), text if tag in ("link", "guid", "id", "loc") else None]:
            if value:
                assert not url_scheme_problem(value), f"{where}: <{tag}> {value!r}"
                if tag in ("link", "guid", "loc") or element.get("href"):
                    assert value.startswith(("http://", "https://")), f"{where}: <{tag}> {value!r}"
    return root


def import_documents(*paths):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_stories", *map(str, paths), stdout=out, stderr=err)
    except SystemExit as exc:
        raise AssertionError(f"import failed ({exc.code}): {err.getvalue()}") from None
    return out.getvalue(), err.getvalue()


@pytest.fixture
def hostile(db, tmp_path):
    """The hostile documents imported, then published the way an editor does (the second is a draft)."""
    first = Path(shutil.copy(DATA / "e2e" / "hostile-published.md", tmp_path / "hostile-published.md"))
    second = tmp_path / "hostile-2.md"
    second.write_text(HOSTILE_2, encoding="utf-8")
    out, err = import_documents(first, second)
    assert "created 2" in out, out + err
    assert Story.objects.filter(published=False).count() == 1
    editor = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client(enforce_csrf_checks=True)
    assert post_login(client, "root").status_code == 302
    changelist = "/admin/stories/story/"
    page = client.get(changelist)
    draft = Story.objects.get(published=False)
    response = client.post(
        changelist,
        {
            "action": "publish_stories",
            "index": 0,
            "_selected_action": [draft.pk],
            "csrfmiddlewaretoken": csrf_token(page),
        },
    )
    assert response.status_code == 302, response.content[:300]
    assert not Story.objects.filter(published=False).exists(), "the admin's publish action did not publish"
    assert editor.is_staff
    return list(Story.objects.select_related("lead__provider").order_by("published_at"))


def hostile_urls(stories):
    urls = ["/", "/?sort=top", "/topics/", "/providers/", "/search/?q=hostile", "/search/?q=script"]
    urls += ["/archive/2021/03/11/", "/archive/2021/03/12/", "/robots.txt"]
    urls += ["/search/?q=%3Cscript%3Ealert(1)%3C/script%3E", '/search/?q="><svg onload=alert(1)>&sort=top']
    for story in stories:
        urls += [story.get_absolute_url(), story.get_absolute_url() + "?order=time"]
    for topic in Topic.objects.filter(story_count__gt=0):
        urls += [f"/topics/{topic.slug}/", f"/feeds/topics/{topic.slug}.rss", f"/feeds/topics/{topic.slug}.atom"]
    for provider in Provider.objects.all():
        if provider.led_count or provider.covered_count:
            urls.append(f"/providers/{provider.slug}/")
        if provider.led_count:
            urls += [f"/feeds/providers/{provider.slug}.rss", f"/feeds/providers/{provider.slug}.atom"]
    urls += ["/feeds/latest.rss", "/feeds/latest.atom", "/feeds/search.rss?q=hostile", "/feeds/search.atom?q=hostile"]
    urls += ["/feeds/search.rss?q=%3Cscript%3E", "/sitemap.xml"]
    return urls


def test_hostile_documents_imported_and_published_never_execute_on_any_page(client, hostile):
    assert len(hostile) == 2
    urls = hostile_urls(hostile)
    seen_text = ""
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in SECRETS:
            assert secret not in body, f"{url}: the secured value"
        kind = response["Content-Type"]
        if "html" in kind:
            page = assert_html_is_inert(body, url)
            seen_text += "".join(page.text)
        elif "xml" in kind:
            root = assert_feed_is_inert(body, url)
            if url == "/sitemap.xml":  # every section of the index too
                namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
                for loc in root.iter(f"{namespace}loc"):
                    assert loc.text.startswith("http://testserver/"), loc.text
                    section = client.get(urlsplit(loc.text).path)
                    assert section.status_code == 200
                    section_body = section.content.decode()
                    assert all(secret not in section_body for secret in SECRETS)
                    for location in ET.fromstring(section_body).iter(f"{namespace}loc"):
                        assert location.text.startswith("http://testserver/"), location.text
        else:
            assert "text/plain" in kind, url
    # Not vacuous: the hostile text was on the pages, as text.
    for shown in [
        "<script>alert('title')</script> Hostile headline <img src=x onerror=alert(1)>",
        "<svg onload=alert(2)> markup",
        '"><script>alert(\'attr\')</script><a href="javascript:alert(7)">click</a> second hostile headline',
        "</script><script>alert('outlet')</script> Outlet",
        "<img src=x onerror=alert('topic')> Topic",
        "<svg onload=alert(16)> Cover",
    ]:
        assert shown in seen_text, shown


def test_hostile_urls_are_links_only_when_they_are_http_and_always_quoted(client, hostile):
    """URLs with quotes and angle brackets stay one attribute value, escaped; javascript:/data: never a link."""
    for story in hostile:
        page = parse_html(client.get(story.get_absolute_url()).content.decode())
        hrefs = [value for tag, name, value in page.attributes if name == "href"]
        srcs = [value for tag, name, value in page.attributes if name == "src"]
        assert all(not url_scheme_problem(value) for value in hrefs + srcs)
        if "hostile2" in story.lead.web_url:
            # the lead's URL, quotes and brackets included, survives as one href value
            assert story.lead.web_url in hrefs
            assert not any(name in ("onclick", "onmouseover", "onerror") for _, name, _ in page.attributes)
    data_image = "data:image/svg+xml"
    for url in ("/", hostile[0].get_absolute_url()):
        assert data_image not in client.get(url).content.decode()


def test_a_reflected_search_query_is_escaped_in_the_page_and_the_feed_links(client, db):
    payload = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"
    response = client.get("/search/", {"q": payload})
    assert response.status_code == 200
    page = assert_html_is_inert(response.content.decode(), "/search/")
    values = [value for tag, name, value in page.attributes if tag == "input" and name == "value"]
    assert payload in values, "the query comes back as the search box's value, whole"
    for url in ("/feeds/search.rss", "/feeds/search.atom"):
        body = client.get(url, {"q": payload}).content.decode()
        assert_feed_is_inert(body, url)


def test_feed_titles_carry_hostile_names_as_text(client, hostile):
    topic = Topic.objects.get(name__startswith="<img")
    provider = Provider.objects.get(domain="hostile2.example.com")
    atom_title = "{http://www.w3.org/2005/Atom}title"
    for path, title in (
        (f"/feeds/topics/{topic.slug}", f"Newsreader: {topic.name}"),
        (f"/feeds/providers/{provider.slug}", f"Newsreader: {provider.name}"),
        ("/feeds/search", "Newsreader: “<script>alert(1)</script>”"),
    ):
        query = "?q=%3Cscript%3Ealert(1)%3C/script%3E" if path == "/feeds/search" else ""
        rss = assert_feed_is_inert(client.get(f"{path}.rss{query}").content.decode(), path)
        atom = assert_feed_is_inert(client.get(f"{path}.atom{query}").content.decode(), path)
        # The same text in both formats, the markup as characters (escaped once in the XML).
        assert rss.find("channel/title").text == atom.find(atom_title).text == title, path


# --- redirects never leave the site --------------------------------------------

EVIL_TARGETS = [
    "https://evil.example/",
    "http://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example/",
    "https:evil.example",
    "http:/evil.example",
    "///evil.example",
    " //evil.example",
    "\t//evil.example",
    "//evil.example@testserver/",
    "https://testserver@evil.example/",
    "https://testserver.evil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
]


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_admin_login_never_redirects_off_site(staff, target):
    client = Client(enforce_csrf_checks=True)
    response = post_login(client, "root", next_url=target)
    assert response.status_code == 302
    assert is_same_site(response["Location"]), response["Location"]
    assert "evil" not in response["Location"]
    # Already logged in: the login page sends to the admin, never to next.
    again = client.get(LOGIN, {"next": target})
    assert again.status_code == 302 and is_same_site(again["Location"]), again["Location"]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_admin_logout_never_redirects_off_site(staff, target):
    client = Client(enforce_csrf_checks=True)
    assert post_login(client, "root").status_code == 302
    page = client.get("/admin/")
    token = client.cookies["csrftoken"].value
    response = client.post("/admin/logout/", {"next": target, "csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert is_same_site(response["Location"]), response["Location"]
    assert "evil" not in response.get("Location", "")
    assert page.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example",
        "//evil.example/",
        "/\\evil.example",
        "///evil.example",
        "//evil.example/%2e%2e",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "//evil.example/story/1",
        "/\\evil.example/topics",
    ],
)
def test_the_public_site_never_redirects_off_site(client, site, path):
    """Slash-appending (CommonMiddleware) and the story redirects only ever point at this site.

    The raw path goes in PATH_INFO as a server would pass it (the test client would read a
    leading // as a host name).
    """
    checked = [client.get("/", PATH_INFO=path)]
    checked += [client.get(f"/story/{site.pk}/", {"next": path}), client.get(f"/story/{site.pk}-x/", {"next": path})]
    for response in checked:
        where = response.request["PATH_INFO"]
        if response.status_code in (301, 302, 303, 307, 308):
            assert is_same_site(response["Location"]), (where, response["Location"])
            assert "evil.example" not in urlsplit(response["Location"].replace("\\", "/")).netloc
        else:
            assert response.status_code == 404, (where, response.status_code)
    assert checked[0].status_code in (301, 404)
    if checked[0].status_code == 301:  # slash appended: the same odd path, still on this site
        assert checked[0]["Location"].startswith("/") and not checked[0]["Location"].startswith("//")


def test_story_redirects_go_to_the_storys_own_address(client, site):
    for url in (f"/story/{site.pk}/", f"/story/{site.pk}-wrong/", f"/story/{site.pk}-wrong/?next=//evil.example"):
        response = client.get(url)
        assert response.status_code == 301
        assert response["Location"].startswith(site.get_absolute_url())


# --- CSRF -------------------------------------------------------------------------


def test_csrf_is_enforced_on_the_admin_login(staff):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": "root", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    client.get(LOGIN)  # sets the cookie; a made-up token still fails
    response = client.post(LOGIN, {"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    assert_security_headers(response)
    # With a token from another session (cookie and token must belong together).
    other = Client(enforce_csrf_checks=True)
    stolen = csrf_token(other.get(LOGIN))
    fresh = Client(enforce_csrf_checks=True)
    fresh.cookies["csrftoken"] = "y" * 32
    response = fresh.post(LOGIN, {"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": stolen})
    assert response.status_code == 403


def test_csrf_refuses_a_cross_origin_post_over_https(staff):
    """Over HTTPS Django also checks the Origin/Referer: a token alone does not do from another site."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(LOGIN, secure=True)
    data = {"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page)}
    response = client.post(LOGIN, data, secure=True, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    response = client.post(LOGIN, data, secure=True, HTTP_REFERER="https://evil.example/form")
    assert response.status_code == 403
    response = client.post(LOGIN, data, secure=True, HTTP_REFERER="https://testserver/admin/login/")
    assert response.status_code == 302


def test_the_csrf_and_session_cookies_are_httponly_and_samesite(staff):
    client = Client(enforce_csrf_checks=True)
    page = client.get(LOGIN)
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] is True and csrf["samesite"] == "Lax"
    response = post_login(client, "root")
    session = response.cookies["sessionid"]
    assert session["httponly"] is True and session["samesite"] == "Lax"


# --- the Host header ----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "testserver.evil.example",
        "evil.example:80",
        "testserver@evil.example",
        "evil.example#testserver",
    ],
)
def test_a_bad_host_header_is_answered_with_400(client, site, host):
    for url in ("/", site.get_absolute_url(), "/feeds/latest.rss", "/sitemap.xml", LOGIN):
        response = client.get(url, HTTP_HOST=host)
        assert response.status_code == 400, (url, host)
        assert "evil" not in response.content.decode(), "the bad host is not reflected"


def test_a_bad_forwarded_host_is_ignored_not_trusted(client, site):
    """X-Forwarded-Host is not trusted (USE_X_FORWARDED_HOST off): links keep the real host."""
    body = client.get("/feeds/latest.rss", HTTP_X_FORWARDED_HOST="evil.example").content.decode()
    assert "evil.example" not in body


# --- login throttling ---------------------------------------------------------------


def test_login_throttling_locks_out_and_a_spoofed_forwarded_for_does_not_escape_it(staff):
    client = Client(enforce_csrf_checks=True)
    statuses = [post_login(client, "root", "wrong").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    # The address is REMOTE_ADDR: a made-up X-Forwarded-For is a header, not an address.
    response = post_login(client, "root", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert_security_headers(response)
    call_command("axes_reset", stdout=io.StringIO())
    assert post_login(client, "root").status_code == 302


def test_login_throttling_treats_unknown_user_names_alike(db):
    """A made-up user name is locked out the same way: the lockout does not reveal who has an account."""
    client = Client(enforce_csrf_checks=True)
    statuses = [post_login(client, "nobody-here", "wrong").status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]


# --- login throttling behind the load balancer (TRUSTED_PROXY_COUNT) ---------------------

BALANCER = "10.0.0.2"  # the proxy in front, the only REMOTE_ADDR the app servers see
ALICE = "203.0.113.10"
BOB = "198.51.100.20"
CAROL = "192.0.2.30"


def through_balancer(*forwarded_for):
    """What reaches the app when nginx forwards a request: X-Forwarded-For with the client appended."""
    return {"REMOTE_ADDR": BALANCER, "HTTP_X_FORWARDED_FOR": ", ".join(forwarded_for)}


def failures_from(address):
    from axes.models import AccessAttempt

    return sum(AccessAttempt.objects.filter(ip_address=address).values_list("failures_since_start", flat=True))


@pytest.fixture
def behind_balancer(settings, db):
    """One trusted proxy (nginx, $proxy_add_x_forwarded_for) and an account to attack."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


def test_behind_the_balancer_failures_lock_out_that_client_only(behind_balancer):
    alice = Client(enforce_csrf_checks=True)
    statuses = [post_login(alice, "root", "wrong", **through_balancer(ALICE)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert post_login(alice, "root", **through_balancer(ALICE)).status_code == 429
    assert failures_from(ALICE) >= 5 and failures_from(BALANCER) == 0
    # Everyone else comes through the same balancer, and still gets in.
    assert post_login(Client(enforce_csrf_checks=True), "root", **through_balancer(BOB)).status_code == 302


def test_behind_the_balancer_a_forged_forwarded_for_neither_locks_nor_unlocks_someone_else(behind_balancer):
    # Bob claims to be Alice; the balancer appends Bob's real address, and that is the one counted.
    bob = Client(enforce_csrf_checks=True)
    statuses = [post_login(bob, "root", "wrong", **through_balancer(ALICE, BOB)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert failures_from(BOB) >= 5 and failures_from(ALICE) == 0
    assert post_login(Client(enforce_csrf_checks=True), "root", **through_balancer(ALICE)).status_code == 302

    # Alice locks herself out; a successful login claiming to be her (from Carol, several forged
    # hops deep) resets Carol's record, not Alice's.
    alice = Client(enforce_csrf_checks=True)
    for _ in range(5):
        post_login(alice, "root", "wrong", **through_balancer(ALICE))
    assert post_login(alice, "root", **through_balancer(ALICE)).status_code == 429
    forged = through_balancer(ALICE, "203.0.113.99", CAROL)
    assert post_login(Client(enforce_csrf_checks=True), "root", **forged).status_code == 302
    assert post_login(Client(enforce_csrf_checks=True), "root", **through_balancer(ALICE)).status_code == 429
    assert failures_from(ALICE) >= 5


def test_without_a_trusted_proxy_forwarded_for_is_ignored(behind_balancer, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client(enforce_csrf_checks=True)
    claimed = [ALICE, BOB, CAROL, "198.51.100.1", "198.51.100.2"]
    statuses = [post_login(client, "root", "wrong", **through_balancer(ip)).status_code for ip in claimed]
    assert statuses == [200, 200, 200, 200, 429]
    assert post_login(client, "root", **through_balancer("198.51.100.3")).status_code == 429
    assert failures_from(BALANCER) >= 5
    assert failures_from(ALICE) == failures_from(BOB) == failures_from(CAROL) == 0


@pytest.mark.parametrize(
    ("count", "forwarded_for", "expected"),
    [
        (0, "203.0.113.10", BALANCER),  # no trusted proxy: the header is not even read
        (1, None, BALANCER),  # no header: the request came from the proxy's host itself
        (1, "203.0.113.10", ALICE),
        (1, "203.0.113.10, 198.51.100.20", BOB),  # the right-most entry, never the left-most
        (1, "  203.0.113.10 ,198.51.100.20  ", BOB),
        (1, "not-an-address, 198.51.100.20", BOB),
        (1, "203.0.113.10,,", ALICE),
        (1, "203.0.113.10, unknown", BALANCER),  # nonsense from the proxy itself: its own address
        (1, "2001:DB8::1", "2001:db8::1"),
        (2, "203.0.113.10, 192.0.2.50", ALICE),  # a CDN (192.0.2.50) in front of nginx
        (2, "198.51.100.20, 203.0.113.10, 192.0.2.50", ALICE),
        (2, "203.0.113.10", ALICE),  # the CDN was skipped: the one address nginx recorded
    ],
)
def test_client_address_is_counted_from_the_right(rf, settings, count, forwarded_for, expected):
    from newsreader.proxy import client_ip

    settings.TRUSTED_PROXY_COUNT = count
    headers = {"REMOTE_ADDR": BALANCER}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    assert client_ip(rf.get("/admin/login/", **headers)) == expected


def test_axes_asks_the_site_for_the_client_address(rf, settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXY_COUNT = 1
    assert get_client_ip_address(rf.get("/", **through_balancer(ALICE, BOB))) == BOB


# --- bandit's exceptions ---------------------------------------------------------------


def test_every_nosec_says_why():
    """Each '# nosec' in the code bandit checks has its reason: on the line, or a comment at most 3 lines above."""
    unexplained = []
    for path in sorted([*PROJECT.glob("newsreader/**/*.py"), *PROJECT.glob("stories/**/*.py")]):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "nosec" not in line or not re.search(r"#\s*nosec", line):
                continue
            reason_here = re.search(r"#\s*nosec\b(?:\s+B\d+(?:,\s*B\d+)*)?\s*[-:]\s*\S", line)
            above = [text.strip() for text in lines[max(number - 3, 0) : number]]
            reason_above = any(text.startswith("#") and len(text) > 10 for text in above)
            if not (reason_here or reason_above):
                unexplained.append(f"{path.relative_to(PROJECT)}:{number + 1}: {line.strip()}")
    assert not unexplained, unexplained


def test_every_string_marked_safe_says_why():
    """Each SafeString(...) or mark_safe(...) in the app says why its text is safe: a "# Safe:" comment on
    the line or at most 3 lines above (bandit flags mark_safe, not SafeString: this keeps both honest)."""
    unexplained = []
    for path in sorted(PROJECT.glob("stories/**/*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if not re.search(r"\b(SafeString|mark_safe)\(", line) or line.lstrip().startswith(("#", "from ")):
                continue
            nearby = [text.strip() for text in lines[max(number - 3, 0) : number + 1]]
            if not any("# Safe:" in text for text in nearby):
                unexplained.append(f"{path.relative_to(PROJECT)}:{number + 1}: {line.strip()}")
    assert not unexplained, unexplained
