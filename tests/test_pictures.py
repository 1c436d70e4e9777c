"""One picture-URL policy (stories.pictures) for the importer, the templates and the CSP; picture credit.

The CSP is read from what the site actually sends, and each URL is checked the
way a browser matches it against ``img-src`` (CSP Level 3, "does url match
source list", for the source expressions this site uses).
"""

import html
import importlib
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps

from stories import pictures
from stories.importer.documents import read_document
from stories.importer.fields import clean_images
from stories.models import Article, Story
from stories.templatetags.reader import picture_url
from tests.factories import make_article, make_provider, make_story
from tests.views.helpers import parse

SITE = "http://testserver"  # the test client's origin: what 'self' means here

ACCEPTED = [
    "https://cdn.example.com/a.jpg",
    "HTTPS://CDN.EXAMPLE.COM/A.JPG",
    "https://cdn.example.com:8443/a.jpg?w=640&h=480#top",
    "https://[2001:db8::1]/a.jpg",
    "  https://cdn.example.com/padded.jpg  ",
    "https://cdn.example.com/a.jpg?region=us&amp;size=2",
]
REFUSED = [
    "http://cdn.example.com/a.jpg",
    "HTTP://CDN.EXAMPLE.COM/A.JPG",
    "&#104;ttp://cdn.example.com/entity.jpg",
    "data:image/png;base64,iVBORw0KGgo=",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "vbscript:msgbox(1)",
    "blob:https://cdn.example.com/1234",
    "file:///etc/passwd",
    "ftp://cdn.example.com/a.jpg",
    "//cdn.example.com/a.jpg",
    "/relative/a.jpg",
    "https://user:secret@cdn.example.com/a.jpg",
    "https://user@cdn.example.com/a.jpg",
    "https:///no-host.jpg",
    "https://cdn.example.com/a b.jpg",
    "https://cdn.example.com/a\tb.jpg",
    "https://cdn.example.com/a.jpg\nhttps://evil.example/",
    "https://cdn.example.com:0/a.jpg",
    "https://cdn.example.com:99999/a.jpg",
    "https://exa mple.com/a.jpg",
    "",
]


def img_src(client):
    """The img-src source list of the CSP the home page is sent with."""
    response = client.get("/")
    assert response.status_code == 200
    for directive in response["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        if name == "img-src":
            return sources
    raise AssertionError("no img-src in the CSP")


def csp_allows(sources, url):
    """Whether a browser loads ``url`` (relative to the page) as an image under ``img-src`` ``sources``."""
    parts = urlsplit(urljoin(SITE + "/", url))
    scheme = parts.scheme.lower()
    site = urlsplit(SITE)
    for source in sources:
        if source == "'none'":
            continue
        if source == "*":
            if scheme not in ("data", "blob", "filesystem", "javascript"):
                return True
        elif source == "'self'":
            if (scheme, parts.netloc.lower()) == (site.scheme, site.netloc):
                return True
            if site.scheme == "http" and scheme == "https" and parts.hostname == site.hostname:
                return True
        elif source.endswith(":") and "/" not in source:  # a scheme-source; http: also allows https:
            allowed = source[:-1].lower()
            if scheme == allowed or (allowed == "http" and scheme == "https"):
                return True
        else:
            raise AssertionError(f"the test does not know the source expression {source!r}: teach it")
    return False


def clean(url):
    warnings = []
    return clean_images([{"url": url}], "related[1].images", warnings), warnings


@pytest.mark.parametrize("url", ACCEPTED)
def test_every_picture_the_importer_accepts_is_allowed_by_the_csp_the_site_sends(client, db, url):
    images, warnings = clean(url)
    assert warnings == [] and len(images) == 1, warnings
    stored = images[0]["url"]
    assert csp_allows(img_src(client), stored), stored
    assert picture_url(stored) == stored, "the templates pass it on as it is"


@pytest.mark.parametrize("url", REFUSED)
def test_every_picture_the_importer_refuses_is_dropped_with_a_warning_naming_the_field(client, db, url):
    images, [warning] = clean(url)
    assert images == []
    assert warning.startswith("related[1].images[0].url: ") and warning.endswith("; image dropped"), warning
    assert picture_url(url) == "", "an older row holding it is not shown either"


def test_the_csp_allows_no_picture_the_importer_refuses_for_its_scheme(client, db):
    """What the importer refuses by scheme is not needed: the CSP does not allow it, nor any other scheme."""
    sources = img_src(client)
    assert sources == ["'self'", *(f"{scheme}:" for scheme in pictures.ALLOWED_SCHEMES)]
    # As a browser reads them in an attribute: references decoded, spaces around trimmed.
    as_read = [html.unescape(url).strip() for url in REFUSED]
    by_scheme = [url for url in as_read if url and urlsplit(url).scheme.lower() not in pictures.ALLOWED_SCHEMES]
    assert len(by_scheme) >= 10
    for url in by_scheme:
        if url.startswith(("//", "/")):
            continue  # relative: resolved against the page, never stored
        assert not csp_allows(sources, url), url


def test_an_http_picture_in_a_document_is_dropped_with_the_file_and_field_named(db, tmp_path, client):
    from django.core.management import call_command

    text = (
        "---\ntitle: Bridge reopens\npublishedDateTime: 2024-03-01T10:00:00Z\nwebUrl: https://lead.example.org/a\n"
        "published: true\nprovider:\n  name: Lead\n  domain: lead.example.org\nimages:\n"
        "  - url: http://lead.example.org/plain.jpg\nrelated:\n  - title: Ferries idle\n"
        "    publishedDateTime: 2024-03-01T11:00:00Z\n    webUrl: https://other.example.org/b\n"
        "    provider:\n      name: Other Paper\n      domain: other.example.org\n    images:\n"
        "      - url: https://other.example.org/secure.jpg\n---\n"
    )
    document = read_document(tmp_path / "bridge.md", text.encode())
    assert [w for w in document.warnings if "images" in w] == [
        "images[0].url: must be an https URL, not http: one (the site's Content-Security-Policy allows pictures "
        "over https only); image dropped"
    ]
    (tmp_path / "bridge.md").write_text(text)
    call_command("import_stories", str(tmp_path), verbosity=0)
    story = Story.objects.get()
    assert story.image == {
        "url": "https://other.example.org/secure.jpg",
        "width": None,
        "height": None,
        "cached": False,
        "credit": {"name": "Other Paper", "slug": "other-example-org"},
    }
    markup = parse(client.get(story.get_absolute_url()).content.decode())
    sources = img_src(client)
    srcs = [img.get("src") for img in markup.find_all("img")]
    assert srcs and all(csp_allows(sources, src) for src in srcs)
    assert markup.find("figcaption").text == "Picture: Other Paper"


def test_the_leads_own_picture_and_a_same_outlet_picture_carry_no_credit(client, db):
    outlet = make_provider("same.example.org", "Same Paper")
    own = make_story("Own picture", lead={"images": [{"url": "https://same.example.org/own.jpg"}]})
    same = make_story(
        "Same outlet", provider=outlet, coverage=[make_article(provider=outlet, images=[{"url": "https://s/x.jpg"}])]
    )
    assert "credit" not in own.image and "credit" not in same.image
    for story in (own, same):
        assert "Picture:" not in client.get(story.get_absolute_url()).content.decode()


def test_a_stored_http_picture_is_never_shown_nor_used_as_the_social_image(client, db):
    story = make_story("Old row", lead={"images": [{"url": "http://old.example.org/a.jpg"}]})
    assert story.image["url"].startswith("http:")
    markup = client.get(story.get_absolute_url()).content.decode()
    assert "old.example.org" not in markup
    assert "old.example.org" not in client.get("/").content.decode()


def test_migration_0010_drops_refused_pictures_and_credits_the_others(db):
    lead = make_provider("lead.example.org", "Lead")
    other = make_provider("other.example.org", "Other Paper")
    item = make_article(provider=other, images=[{"url": "https://other.example.org/ok.jpg"}])
    story = make_story(
        "Old story", provider=lead, lead={"images": [{"url": "http://lead.example.org/a.jpg"}]}, coverage=[item]
    )
    plain = make_story("No picture at all")
    Story.objects.filter(pk=story.pk).update(image={"url": "http://lead.example.org/a.jpg"})  # as stored before

    migration = importlib.import_module("stories.migrations.0010_picture_credit")
    migration.forwards(apps, None)

    assert Article.objects.get(pk=story.lead_id).images == []
    story.refresh_from_db()
    assert story.image == {
        "url": "https://other.example.org/ok.jpg",
        "credit": {"name": "Other Paper", "slug": "other-example-org"},
    }
    plain.refresh_from_db()
    assert plain.image is None
