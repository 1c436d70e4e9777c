"""The parsing and validation layer alone (stories.importer.documents, fields, yaml_loader): no database.

Documents are the bundled seed, the 45 real sample documents, the small edge
cases in tests/data/valid/ and mutations of the seed made here.
"""

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from stories.importer import documents, yaml_loader
from stories.importer.documents import DocumentError, read_document
from stories.importer.fields import (
    MAX_IMAGES,
    MAX_NAME,
    MAX_SHORT,
    MAX_TITLE,
    MAX_TYPE,
    MAX_URL,
    InvalidFieldError,
    clean_domain,
    clean_images,
    clean_integer,
    clean_text,
    clean_topics,
    clean_url,
    unescape_entities,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "seeds" / "000_8c0de6de77f2d51c.txt"
SAMPLE = ROOT / "data" / "seeds" / "sample"
VALID = Path(__file__).resolve().parent / "data" / "valid"
SEED_TEXT = SEED.read_text(encoding="utf-8")

SEED_LEAD_URL = (
    "https://www.bostonglobe.com/2020/06/10/business/amazon-bans-police-use-its-face-recognition-technology-year/"
)
SEED_RELATED = [  # (title starts with, web URL, provider name, provider domain, has an image)
    ("Amazon won\u2019t say", "https://techcrunch.com/2020/06/10/amazon-rekognition-moratorium/", "TechCrunch",
     "techcrunch.com", True),
    ("IBM won\u2019t develop", "https://thenextweb.com/neural/2020/06/09/ibm-wont-develop-facial-recognition-tech-for-mass-surveillance-anymore/",
     "The Next Web", "thenextweb.com", True),
    ("IBM walked away", "https://venturebeat.com/2020/06/10/ibm-walked-away-from-facial-recognition-what-about-amazon-and-microsoft/",
     "VentureBeat", "venturebeat.com", True),
    ("IBM wins praise", "https://www.businessinsider.com/ibm-kills-general-purpose-facial-recognition-2020-6",
     "Business Insider", "businessinsider.com", True),
    ("IBM exits facial recognition market", "https://venturebeat.com/2020/06/09/https-venturebeat-com-2020-06-09-ibm-exits-facial-recognition-urges-national-dialogue-on-use-by-law-enforcement/",
     "VentureBeat", "venturebeat.com", True),
    ("Amazon says cops can't", "https://mashable.com/article/amazon-facial-recognition-tech-rekognition-police/",
     "Mashable", "mashable.com", True),
    ("Amazon just announced", "https://www.businessinsider.com/amazon-rekognition-suspend-police-use-of-controversial-facial-recognition-tech-2020-6",
     "Business Insider", "businessinsider.com", True),
    ("George Floyd: Amazon bans", "https://www.bbc.co.uk/news/business-52989128", "BBC", "bbc.co.uk", True),
    ("Amazon bans police use of its face recognition for a year | Charlotte Observer",
     "https://www.charlotteobserver.com/news/business/national-business/article243441421.html",
     "Charlotte Observer", "charlotteobserver.com", False),
    ("Amazon bans police use of its facial-recognition technology for a year",
     "https://www.chron.com/news/article/Amazon-bans-police-use-of-its-facial-recognition-15331295.php",
     "Houston Chronicle", "chron.com", True),
    ("Amazon Blocks Facial Recognition Tool", "https://www.law360.com/articles/1281930/amazon-blocks-facial-recognition-tool-from-cops-for-1-year",
     "Law360", "law360.com", False),
]  # fmt: skip


def seed_with(old, new, count=1):
    """The seed's bytes with ``old`` replaced by ``new`` (``old`` must be there)."""
    assert SEED_TEXT.count(old) >= count, old
    return SEED_TEXT.replace(old, new, count).encode()


def read(raw, name="doc.md"):
    return read_document(Path(name), raw if isinstance(raw, bytes) else raw.encode())


def error_of(raw, name="doc.md"):
    with pytest.raises(DocumentError) as info:
        read(raw, name)
    return info.value


def minimal(**fields):
    """A small valid document; keyword arguments replace or add front matter lines (None drops one)."""
    lines = {
        "title": 'title: "A minimal document"',
        "webUrl": 'webUrl: "https://www.example.com/news/1"',
        "publishedDateTime": "publishedDateTime: 2021-01-02T03:04:05Z",
        "provider": "provider:\n  name: Example News\n  domain: example.com",
    }
    for key, line in fields.items():
        if line is None:
            lines.pop(key, None)
        else:
            lines[key] = line
    return ("---\n" + "\n".join(lines.values()) + "\n---\n").encode()


# --- the bundled seed ----------------------------------------------------------


def test_the_seed_round_trips():
    doc = read_document(SEED)
    lead = doc.lead
    assert lead.title == "Amazon bans police use of its face recognition technology for a year"
    assert lead.excerpt.startswith("Amazon on Wednesday banned police use of its face-recognition technology")
    assert lead.excerpt.endswith("incorrectly identifying people with darker skin.")
    assert lead.published_at == datetime(2020, 6, 11, 2, 1, tzinfo=UTC)
    assert lead.published_at.tzinfo is UTC
    assert lead.web_url == SEED_LEAD_URL
    assert lead.amp_url == SEED_LEAD_URL + "?outputType=amp"
    assert lead.cdn_amp_url.startswith("https://www-bostonglobe-com.cdn.ampproject.org/c/s/")
    assert (lead.provider_name, lead.provider_domain) == ("The Boston Globe", "bostonglobe.com")
    assert (lead.quality, lead.heat, lead.type) == (39, -1, "article")
    assert doc.topics == [("computer-vision", "Computer Vision"), ("ai", "AI")]
    assert doc.category == "news"
    assert doc.published is False
    assert doc.secured.startswith("nToMhqtgXwN4v8fpRCdUytjWlJmUA6R6Y414CIznsy7Lovc")
    assert doc.secured.endswith(";a+puxKAO1nuqBXEqpZ0u3w==")
    assert doc.warnings == []

    assert len(doc.related) == 11
    for item, (title, url, name, domain, has_image) in zip(doc.related, SEED_RELATED, strict=True):
        assert item.title.startswith(title)
        assert item.web_url == url
        assert (item.provider_name, item.provider_domain) == (name, domain)
        assert bool(item.images) is has_image
        assert item.published_at.tzinfo is UTC
    outlets = {lead.provider_domain} | {item.provider_domain for item in doc.related}
    assert len(outlets) == 10

    venturebeat = doc.related[2]
    assert venturebeat.images == [
        {
            "url": "https://venturebeat.com/wp-content/uploads/2020/06/joy-buolamwini.jpg?w=1200&strip=all",
            "width": 1200,
            "height": 600,
            "cached": True,
        }
    ]
    assert doc.related[3].images[0]["url"] == "https://i.insider.com/5ee0c76f2618b948095950e4?width=1200&format=jpeg"
    assert doc.related[0].quality == 90
    assert doc.related[0].amp_url == "https://techcrunch.com/2020/06/10/amazon-rekognition-moratorium/amp/"
    assert doc.related[9].amp_url == ""  # the Houston Chronicle item has no ampWebUrl
    assert doc.related[0].published_at == datetime(2020, 6, 10, 22, 58, tzinfo=UTC)


def test_the_seed_hash_is_of_its_exact_bytes():
    raw = SEED.read_bytes()
    assert read_document(SEED).content_hash == documents.content_hash(raw)
    assert read(raw + b"\n").content_hash != documents.content_hash(raw)


SPORTS_MINISTRY = (
    "2020-06-30-sports-ministry-moves-delhi-high-court-seeking-restoration-of-provisional-recognition-to-57-nsfs.md"
)


def test_every_sample_document_reads_as_facts_md_says():
    docs = [read_document(path) for path in sorted(SAMPLE.glob("*.md"))]
    assert len(docs) == 45
    # 112 related items, one of them the same URL twice in one document
    assert sum(len(doc.related) for doc in docs) == 111
    urls = {article.web_url for doc in docs for article in (doc.lead, *doc.related)}
    assert len(urls) == 154
    assert len({doc.lead.provider_domain for doc in docs}) == 40
    assert len({a.provider_domain for doc in docs for a in (doc.lead, *doc.related)}) == 102
    assert len({name for doc in docs for _, name in doc.topics}) == 12
    assert sum(doc.published for doc in docs) == 7 + 19  # true, and absent
    assert min(doc.lead.published_at for doc in docs) == datetime(2014, 10, 19, 22, 18, tzinfo=UTC)
    assert max(doc.lead.published_at for doc in docs) == datetime(2021, 3, 11, 15, 11, tzinfo=UTC)
    assert max(doc.quality for doc in docs) == 150
    assert sum(1 for doc in docs for item in doc.related if item.quality > 100) == 6
    warned = {Path(doc.source_file).name: doc.warnings for doc in docs if doc.warnings}
    assert warned == {
        SPORTS_MINISTRY: ["related[4]: repeats an earlier item's URL; kept once"],
        # NPR's picture is http: (stories.pictures allows https only, as the CSP does).
        "2020-07-31-chinese-facial-recognition-developer-closes-15-billion-funding-round.md": [
            "related[10].images[0].url: must be an https URL, not http: one (the site's Content-Security-Policy "
            "allows pictures over https only); image dropped"
        ],
    }
    fastcompany = [a.web_url for doc in docs for a in doc.related if "fastcompany.com/90516127" in a.web_url]
    assert fastcompany == [
        "https://www.fastcompany.com/90516127/now-microsoft-is-banning-police-from-using-its-facial-recognition-tech-too?amp&&&"
    ]


def test_the_newer_sample_version_of_the_seed_has_the_same_lead_and_30_related_items():
    newer = read_document(SAMPLE / "2020-06-11-amazon-bans-police-use-of-its-face-recognition-technology-for-a-year.md")
    assert newer.lead.web_url == SEED_LEAD_URL
    assert len(newer.related) == 30


# --- the valid edge cases --------------------------------------------------------


def valid(name):
    return read_document(VALID / name)


def test_bom_and_crlf_are_fine():
    raw = (VALID / "bom_and_crlf.md").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf---\r\n") and raw.count(b"\r\n") == raw.count(b"\n")
    doc = valid("bom_and_crlf.md")
    assert doc.lead.title == "BOM and CRLF line endings are fine"
    assert doc.lead.excerpt == "The file starts with a UTF-8 BOM and every line ends in CRLF."
    assert doc.lead.web_url == "https://bom-crlf.example.com/story"
    assert doc.topics == [("ai", "AI")]


def test_the_seed_with_a_bom_and_crlf_reads_the_same():
    crlf = read(b"\xef\xbb\xbf" + SEED.read_bytes().replace(b"\n", b"\r\n"))
    plain = read_document(SEED)
    assert (crlf.lead, crlf.related, crlf.topics, crlf.secured) == (
        plain.lead,
        plain.related,
        plain.topics,
        plain.secured,
    )


def test_the_front_matter_ends_only_at_a_line_that_is_exactly_three_dashes():
    doc = valid("excerpt_holds_crlf_and_dashes.md")
    assert doc.lead.excerpt.startswith("Before.\r\n---\r\nAfter:")
    assert doc.secured == "--- not a fence ---"
    # "---" with trailing spaces, or indented, is not a fence either
    assert "not closed" in str(error_of(minimal().replace(b"\n---\n", b"\n---  \n")))
    assert "not closed" in str(error_of(minimal().replace(b"\n---\n", b"\n ---\n")))


def test_text_after_the_front_matter_is_ignored():
    doc = read(minimal() + b"Body.\n---\nnot: yaml: at all: [\n")
    assert doc.lead.title == "A minimal document"


def test_a_document_with_only_the_required_fields():
    doc = valid("minimal_required_fields_only.md")
    assert doc.lead.provider_domain == "minimal.example.com"  # the host of webUrl, without www.
    assert (doc.published, doc.related, doc.topics, doc.category, doc.secured) == (True, [], [], "", "")
    assert (doc.lead.quality, doc.lead.heat, doc.lead.type, doc.lead.images) == (0, -1, "article", [])


def test_a_document_without_related():
    doc = valid("no_related.md")
    assert doc.related == []
    assert doc.published is True
    assert doc.secured == "abc;def=="


def test_published_absent_means_published():
    assert valid("no_published.md").published is True
    assert read(minimal(published="published: false")).published is False
    assert read(minimal(published="published: true")).published is True


def test_quality_above_100_is_kept():
    doc = valid("quality_above_100.md")
    assert (doc.quality, doc.heat, doc.published) == (150, 150, False)
    assert doc.related[0].quality == 104


def test_optional_fields_may_be_null():
    doc = valid("optional_fields_null.md")
    lead = doc.lead
    assert (lead.excerpt, lead.amp_url, lead.cdn_amp_url, lead.type, lead.quality, lead.heat, lead.images) == (
        "",
        "",
        "",
        "article",
        0,
        -1,
        [],
    )
    assert (doc.related, doc.topics, doc.category, doc.secured, doc.published) == ([], [], "", "", True)
    assert lead.provider_domain == "nulls.example.com"


@pytest.mark.parametrize(
    "field", ["related", "quality", "heat", "ampWebUrl", "cdnAmpWebUrl", "images", "category", "secured", "published"]
)
def test_optional_fields_may_be_absent(field):
    text = SEED_TEXT
    # drop the field's line (and, for lists, its items) from the lead only
    text = re.sub(rf"(?m)^{field}:.*\n(?:[ ]+.*\n)*", "", text)
    assert not re.search(rf"(?m)^{field}:", text)
    doc = read(text)
    assert doc.lead.web_url == SEED_LEAD_URL


def test_a_related_item_that_is_the_lead_itself_is_not_coverage():
    doc = valid("related_item_is_lead_url.md")
    assert [item.web_url for item in doc.related] == ["https://cover-self.example.org/coverage"]
    assert doc.warnings == ["related[0]: is the lead article itself; not counted as coverage"]


def test_the_same_url_twice_in_related_is_one_item():
    doc = valid("related_same_url_twice.md")
    assert [item.title for item in doc.related] == ["Coverage, first time", "Other coverage"]
    assert doc.warnings == ["related[1]: repeats an earlier item's URL; kept once"]


def test_a_title_repeated_by_another_outlet_is_fine():
    doc = valid("title_repeated_by_other_outlet.md")
    assert doc.warnings == []
    assert doc.related[0].title == doc.lead.title
    assert doc.related[0].provider_domain != doc.lead.provider_domain


def test_unknown_fields_are_ignored_and_names_in_any_script_work():
    doc = valid("unknown_fields_and_unicode.md")
    assert doc.lead.provider_name == "Ünïcödé Outlet 人工"
    assert doc.lead.provider_domain == "unicode.example.com"
    slugs = [slug for slug, _ in doc.topics]
    assert [name for _, name in doc.topics] == ["人工知能", "AI"]  # "  AI  " is AI again
    # every slug fits the ASCII-only <slug:slug> route the topic pages use
    assert all(re.fullmatch(r"[-a-zA-Z0-9_]+", slug) for slug in slugs)
    assert slugs[1] == "ai" and slugs[0].startswith("topic-")


def test_entities_in_urls_are_unescaped_once():
    doc = valid("urls_with_entities.md")
    assert doc.lead.web_url == "https://entities.example.com/story?a=1&b=2&region=us&para=3&copy=4"
    assert doc.lead.amp_url == "https://entities.example.com/story?amp&&"
    assert doc.lead.cdn_amp_url.endswith("story?x=1&amp;y=2")  # once, not twice
    assert doc.lead.images == [
        {"url": "https://entities.example.com/pic.jpg?w=1200&strip=all", "width": 1200, "height": 600, "cached": True}
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("w=1200&#038;strip=all", "w=1200&strip=all"),
        ("a&amp;b", "a&b"),
        ("a&amp;amp;b", "a&amp;b"),
        ("?amp&amp&amp&amp", "?amp&&&"),  # browsers decode &amp without ; before & or at the end
        ("&#x26;&#X26;&#38", "&&&"),
        ("a=1&region=us", "a=1&region=us"),  # html.unescape would give "®ion"
        ("a=1&para=2&sect=3&not=4&times=5&copy=6&reg=7&cent=8&pound=9&curren=1",
         "a=1&para=2&sect=3&not=4&times=5&copy=6&reg=7&cent=8&pound=9&curren=1"),
        ("a&copy;b", "a©b"),
        ("a&ampx=1", "a&ampx=1"),
        ("a&unknown;b", "a&unknown;b"),
        ("a&region;b", "a&region;b"),
        ("plain", "plain"),
    ],
)  # fmt: skip
def test_unescape_entities_decodes_like_a_browser_attribute(raw, expected):
    assert unescape_entities(raw) == expected


# --- times ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-06-11T02:01:00Z", datetime(2020, 6, 11, 2, 1, tzinfo=UTC)),
        ("2020-06-11T02:01:00-07:00", datetime(2020, 6, 11, 9, 1, tzinfo=UTC)),
        ("2020-06-11 02:01:00 -07:00", datetime(2020, 6, 11, 9, 1, tzinfo=UTC)),
        ("2020-06-11 02:01:00 -7", datetime(2020, 6, 11, 9, 1, tzinfo=UTC)),
        ("2020-06-11T02:01:00+05:30", datetime(2020, 6, 10, 20, 31, tzinfo=UTC)),
        ("2020-06-11t02:01:00.123456789z", datetime(2020, 6, 11, 2, 1, 0, 123456, tzinfo=UTC)),
        ("2020-06-11T02:01:00", datetime(2020, 6, 11, 2, 1, tzinfo=UTC)),  # no zone: UTC
        ("2020-06-11", datetime(2020, 6, 11, tzinfo=UTC)),
        ("2020-6-1 2:01:00", datetime(2020, 6, 1, 2, 1, tzinfo=UTC)),
        ('"2020-06-11T02:01:00Z"', datetime(2020, 6, 11, 2, 1, tzinfo=UTC)),
        ('"2020-06-11T02:01Z"', datetime(2020, 6, 11, 2, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("9999-12-31T23:00:00+05:00", datetime(9999, 12, 31, 18, tzinfo=UTC)),
    ],
)
def test_times_parse_to_utc(value, expected):
    doc = read(minimal(publishedDateTime=f"publishedDateTime: {value}"))
    assert doc.lead.published_at == expected
    assert doc.lead.published_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2020-02-30", "day is out of range for month"),
        ("2021-02-29T00:00:00Z", "day is out of range for month"),
        ("2020-13-01", "month must be in 1..12"),
        ("2020-06-11T24:00:00Z", "hour must be in 0..23"),
        ("2020-06-11T02:01:00+24:00", "offset must be a timedelta"),
        ("9999-12-31T23:00:00-05:00", "falls outside years 1 to 9999 in UTC"),
        ("0001-01-01T00:30:00+01:00", "falls outside years 1 to 9999 in UTC"),
        ("10000-01-01T00:00:00Z", "the year is after 9999"),
        ("0000-01-01", "year 0 is out of range"),
        ("yesterday", "not a valid date and time"),
        ("1591840860", "must be a date and time, not a number"),
        ("true", "must be a date and time, not a boolean"),
        ("[2020, 6, 11]", "must be a date and time, not a list"),
        ('""', "is missing"),
        ("", "is missing"),
    ],
)
def test_bad_times_are_refused(value, problem):
    error = error_of(minimal(publishedDateTime=f"publishedDateTime: {value}"), "times.md")
    assert error.field == "publishedDateTime"
    assert problem in error.problem
    assert str(error).startswith("times.md: publishedDateTime: ")


def test_a_huge_bad_time_is_quoted_short():
    error = error_of(minimal(publishedDateTime=f"publishedDateTime: '{'9' * 5000}'"))
    assert len(str(error)) < 200


# --- the field rules, one by one, for the lead ------------------------------------

LEAD = 'title: "Amazon bans police use of its face recognition technology for a year"\n'
PROVIDER = "provider:\n  name: The Boston Globe\n  domain: bostonglobe.com\n"
LEAD_RULES = [
    # (id, old, new, field, problem)
    ("title missing", LEAD, "", "title", "is missing"),
    ("title null", LEAD, "title: null\n", "title", "is missing"),
    ("title empty", LEAD, 'title: "  "\n', "title", "is empty"),
    ("title a number", LEAD, "title: 42\n", "title", "must be text, not a number"),
    ("title too long", LEAD, f'title: "{"x" * 501}"\n', "title", "over the 500 limit"),
    ("title with a NUL", LEAD, 'title: "a\\0b"\n', "title", "control characters"),
    ("webUrl missing", f'webUrl: "{SEED_LEAD_URL}"\n', "", "webUrl", "is missing"),
    ("webUrl ftp", f'webUrl: "{SEED_LEAD_URL}"\n', 'webUrl: "ftp://bostonglobe.com/x"\n', "webUrl", "not ftp:"),
    ("webUrl a list", f'webUrl: "{SEED_LEAD_URL}"\n', "webUrl: [a]\n", "webUrl", "must be a URL, not a list"),
    ("publishedDateTime missing", "publishedDateTime: 2020-06-11T02:01:00Z\n", "", "publishedDateTime", "is missing"),
    ("publishedDateTime impossible", "publishedDateTime: 2020-06-11T02:01:00Z\n",
     "publishedDateTime: 2020-06-31T02:01:00Z\n", "publishedDateTime", "day is out of range"),
    ("provider missing", PROVIDER, "", "provider", "is missing"),
    ("provider text", PROVIDER, "provider: The Boston Globe\n", "provider", "must be a mapping with a name, not text"),
    ("provider a list", PROVIDER, "provider: [The Boston Globe]\n", "provider", "not a list"),
    ("provider without name", PROVIDER, "provider:\n  domain: bostonglobe.com\n", "provider.name", "is missing"),
    ("provider name a number", PROVIDER, "provider:\n  name: 7\n", "provider.name", "must be text"),
    ("provider name with an override", PROVIDER, "provider:\n  name: \"Globe \\u202eevil\"\n", "provider.name",
     "must not contain direction controls (found U+202E)"),
    ("provider bad domain", PROVIDER, "provider:\n  name: X\n  domain: 'not a domain'\n", "provider.domain",
     "not a valid domain name"),
    ("ampWebUrl javascript", "ampWebUrl: ", "ampWebUrl: \"javascript:alert(1)\"\nx: ", "ampWebUrl", "not javascript:"),
    ("cdnAmpWebUrl relative", "cdnAmpWebUrl: ", "cdnAmpWebUrl: \"/c/s/x\"\nx: ", "cdnAmpWebUrl", "relative"),
    ("quality a string", "quality: 39\n", 'quality: "39"\n', "quality", "must be a whole number, not text"),
    ("quality a boolean", "quality: 39\n", "quality: true\n", "quality", "not a boolean"),
    ("quality 017", "quality: 39\n", "quality: 017\n", "quality", "not '017'"),
    ("quality a decimal", "quality: 39\n", "quality: 39.0\n", "quality", "not a decimal number"),
    ("quality negative", "quality: 39\n", "quality: -3\n", "quality", "must be 0 or more"),
    ("quality too large", "quality: 39\n", "quality: 2147483648\n", "quality", "too large"),
    ("heat below -1", "heat: -1\n", "heat: -2\n", "heat", "must be -1 or more"),
    ("heat a string", "heat: -1\n", "heat: '-1'\n", "heat", "not text"),
    ("published no", "published: false\n", "published: no\n", "published", "not 'no'"),
    ("published a string", "published: false\n", 'published: "false"\n', "published", "not text"),
    ("published a number", "published: false\n", "published: 1\n", "published", "not a number"),
    ("topics a mapping", "topics:\n  - Computer Vision\n  - AI\n", "topics:\n  AI: 1\n", "topics",
     "must be a list, not a mapping"),
    ("topics text", "topics:\n  - Computer Vision\n  - AI\n", "topics: AI\n", "topics", "must be a list, not text"),
    ("topic not a name", "  - Computer Vision\n", "  - 12\n", "topics[0]", "must be a topic name"),
    ("topic without letters", "  - Computer Vision\n", "  - '***'\n", "topics[0]", "no letters or digits"),
    ("topic with an isolate", "  - Computer Vision\n", '  - "AI \\u2067x"\n', "topics[0]",
     "must not contain direction controls (found U+2067)"),
    ("related a mapping", "related:\n", "related:\n  a: 1\nnot_related:\n", "related", "must be a list, not a mapping"),
    ("category a list", "category: news\n", "category: [news]\n", "category", "must be text, not a list"),
    ("secured a number", "secured: \"", "secured: 12\nx: \"", "secured", "must be text, not a number"),
    ("category with an embedding", "category: news\n", 'category: "\\u202bnews"\n', "category",
     "direction controls (found U+202B)"),
    ("type too long", "type: article\nquality", f"type: {'t' * 51}\nquality", "type", "over the 50 limit"),
]  # fmt: skip


def test_right_to_left_names_and_direction_controls_in_headlines_are_kept():
    """Headlines and excerpts keep whatever direction controls they hold (pages isolate them:
    dir="auto"); a name may hold the right-to-left mark (U+200F), which opens nothing."""
    doc = read(
        minimal(
            title='title: "Flipped \\u202eheadline"',
            excerpt='excerpt: "An \\u2067isolated\\u2069 word."',
            provider='provider:\n  name: "الجزيرة\\u200f"\n  domain: aljazeera.net',
        )
    )
    assert doc.lead.title == "Flipped \u202eheadline"
    assert doc.lead.excerpt == "An \u2067isolated\u2069 word."
    assert doc.lead.provider_name == "الجزيرة\u200f"


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"), [r[1:] for r in LEAD_RULES], ids=[r[0] for r in LEAD_RULES]
)
def test_a_lead_that_breaks_a_rule_is_refused_naming_file_field_and_problem(old, new, field, problem):
    error = error_of(seed_with(old, new), "broken/doc.md")
    assert error.field == field
    assert problem in error.problem
    assert str(error) == f"broken/doc.md: {field}: {error.problem}"


RELATED_ITEM = '  - title: "IBM walked away from facial recognition. What about Amazon and Microsoft?"\n'
RELATED_URL = 'webUrl: "https://venturebeat.com/2020/06/10/ibm-walked-away-from-facial-recognition-what-about-amazon-and-microsoft/"'
RELATED_PROVIDER = "    provider:\n      name: VentureBeat\n      domain: venturebeat.com\n    quality: 88\n"
RELATED_RULES = [
    ("title missing", RELATED_ITEM, "  - excerpt2: x\n", "related[2].title", "is missing"),
    ("title a list", RELATED_ITEM, "  - title: [a]\n", "related[2].title", "must be text"),
    ("webUrl javascript", RELATED_URL, 'webUrl: "javascript:alert(1)"', "related[2].webUrl", "not javascript:"),
    ("webUrl protocol-relative", RELATED_URL, 'webUrl: "//venturebeat.com/x"', "related[2].webUrl",
     "protocol-relative"),
    ("time impossible", "publishedDateTime: 2020-06-10T18:12:00Z", "publishedDateTime: 2020-02-30T18:12:00Z",
     "related[2].publishedDateTime", "day is out of range"),
    ("provider missing", RELATED_PROVIDER, "    quality: 88\n", "related[2].provider", "is missing"),
    ("provider text", RELATED_PROVIDER, "    provider: VentureBeat\n    quality: 88\n", "related[2].provider",
     "must be a mapping"),
    ("provider without name", RELATED_PROVIDER, "    provider:\n      domain: venturebeat.com\n    quality: 88\n",
     "related[2].provider.name", "is missing"),
    ("quality a string", RELATED_PROVIDER, "    provider:\n      name: VentureBeat\n    quality: '88'\n",
     "related[2].quality", "not text"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"), [r[1:] for r in RELATED_RULES], ids=[r[0] for r in RELATED_RULES]
)
def test_a_related_item_that_breaks_a_rule_is_dropped_with_a_warning(old, new, field, problem):
    doc = read(seed_with(old, new))
    urls = [item.web_url for item in doc.related]
    assert SEED_RELATED[2][1] not in urls
    assert len(doc.related) == 10
    assert [w for w in doc.warnings if w.startswith(field)] == [w for w in doc.warnings]
    assert len(doc.warnings) == 1
    assert problem in doc.warnings[0] and doc.warnings[0].endswith("item dropped")


def test_a_related_item_that_is_not_a_mapping_is_dropped_with_a_warning():
    doc = read(seed_with(RELATED_ITEM, "  - just text\n" + RELATED_ITEM))
    assert len(doc.related) == 11
    assert doc.warnings == ["related[2]: must be a mapping, not text; item dropped"]


def test_a_bad_image_is_dropped_with_a_warning_and_never_sinks_its_article():
    doc = read(seed_with("joy-buolamwini.jpg?w=1200&#038;strip=all", "x.jpg\\nSet-Cookie: a"))
    assert doc.related[2].images == []
    assert doc.warnings == [
        "related[2].images[0].url: must not contain spaces, line breaks or control characters; image dropped"
    ]
    doc = read(seed_with("    images:\n      - url", "    images: text\n    old_images:\n      - url"))
    assert doc.related[0].images == [] and "must be a list, not text; ignored" in doc.warnings[0]


def test_images_beyond_fifty_are_dropped_with_a_warning():
    images = "".join(f'  - url: "https://example.com/{n}.jpg"\n' for n in range(60))
    doc = read(minimal(images="images:\n" + images.rstrip("\n")))
    assert len(doc.lead.images) == MAX_IMAGES
    assert doc.warnings == ["images: has 60 images; only the first 50 are kept"]


def test_a_provider_without_domain_takes_the_host_of_web_url():
    doc = read(minimal(webUrl='webUrl: "https://WWW.News.Example.ORG:8443/a"', provider="provider:\n  name: N"))
    assert doc.lead.provider_domain == "news.example.org"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("javascript:alert(1)", "not javascript:"),
        ("JAVASCRIPT:alert(1)", "not javascript:"),
        ("&#106;avascript:alert(1)", "not javascript:"),
        ("data:text/html,<script>alert(1)</script>", "not data:"),
        ("ftp://example.com/x", "not ftp:"),
        ("file:///etc/passwd", "not file:"),
        ("//example.com/x", "protocol-relative"),
        ("/x", "relative"),
        ("https://example.com/a\\nb", "line breaks"),
        ("https://example.com/a&#13;&#10;b", "line breaks"),
        ("https://example.com/\\u2028x", "line breaks"),
        ("https://example.com/\\u202egpj.exe", "control characters"),
        ("https://example.com/a\\x85b", "control characters"),
        ("https://example.com/a b", "spaces"),
        ("https://user:pass@example.com/", "no user name or password"),
        ("https://example.com@evil.example.net/", "no user name or password"),
        ("https:///x", "must name a host"),
        ("https://exa mple.com/", "spaces"),
        ("https://-example.com/", "invalid host name"),
        ("https://exa%6dple.com/", "invalid host name"),
        ("https://example.com:99999/", "Port out of range"),
        ("https://example.com:0/", "invalid port"),
        ("https://[::1/", "not a valid URL"),
        ("https://example.com/" + "a" * 2000, "over the 2000-character limit"),
    ],
)
def test_urls_are_http_or_https_only(url, problem):
    error = error_of(minimal(webUrl=f'webUrl: "{url}"'))
    assert error.field == "webUrl"
    assert problem in error.problem


@pytest.mark.parametrize(
    "url", ["http://example.com", "https://example.com:8443/a?b=c#d", "https://[2001:db8::1]/x", "https://127.0.0.1/"]
)
def test_good_urls_pass(url):
    assert read(minimal(webUrl=f'webUrl: "{url}"')).lead.web_url == url


def test_a_url_as_long_as_the_column_is_kept():
    url = "https://example.com/" + "a" * (2000 - len("https://example.com/"))
    assert read(minimal(webUrl=f'webUrl: "{url}"')).lead.web_url == url


# --- YAML hardening -----------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        "category: &c news",
        "x: &a [1]\ny: *a",
        "x: [&a 1, *a]",
        'x: {"k":&a 1, "j":*a}',
        "x: {'k':*a}",
        "x: !!str &a text",
        "x:\t&a 1",
        "x: &loop [*loop]",
        "&a x: 1",
    ],
)
def test_every_anchor_and_alias_is_refused(extra):
    error = error_of(minimal(extra=extra))
    assert "anchors and aliases are not allowed" in error.problem


def test_an_alias_the_text_scan_would_miss_is_refused_while_building():
    loader = yaml_loader.SeedLoader("a: &x [1, 2]\nb: *x\n")
    try:
        with pytest.raises(yaml.YAMLError, match="anchors and aliases are not allowed"):
            loader.get_single_data()
    finally:
        loader.dispose()


def test_ampersands_and_asterisks_in_text_are_not_anchors():
    doc = read(minimal(title='title: "Q&A: *the* answer & more"', excerpt="excerpt: Rock & roll *live*"))
    assert doc.lead.title == "Q&A: *the* answer & more"
    assert doc.lead.excerpt == "Rock & roll *live*"


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("x: !!python/object/apply:os.system ['true']", "python/object/apply:os.system"),
        ("x: !!python/name:os.system", "python/name:os.system"),
        ("x: !!binary aGVsbG8=", "tag:yaml.org,2002:binary"),
        ("x: !!set {a, b}", "tag:yaml.org,2002:set"),
        ("x: !!omap [{a: 1}]", "tag:yaml.org,2002:omap"),
        ("x: !!pairs [{a: 1}]", "tag:yaml.org,2002:pairs"),
        ("x: !custom value", "!custom"),
        ("x: {<<: {a: 1}}", "merge keys"),
        ("!!merge x: {title: merged}", "merge keys"),
        ("title: again", "duplicate key 'title'"),
        ("'title': again", "duplicate key 'title'"),
        ("? [a]\n: 1", "unhashable key"),
        ("x: " + "9" * 5000, "Exceeds the limit"),
    ],
)
def test_dangerous_or_ambiguous_yaml_is_refused(extra, problem):
    error = error_of(minimal(extra=extra))
    assert error.field is None
    assert problem in error.problem
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("no", "'no'"), ("yes", "'yes'"), ("on", "'on'"), ("017", "'017'"), ("0x1f", "'0x1f'"), ("1:30", "'1:30'")],
)
def test_yaml_1_1_coercions_are_not_applied(value, expected):
    assert f"not {expected}" in error_of(minimal(quality=f"quality: {value}")).problem
    # as text they stay the text that was written
    assert read(minimal(title=f"title: {value}")).lead.title == value


def test_an_impossible_date_in_an_unknown_field_is_ignored():
    # PyYAML's own constructor raises a plain ValueError for it; this loader keeps timestamps as text
    doc = read(minimal(extra="originalDate: 2020-02-30", more="when: !!timestamp 2020-02-30T25:00:00Z"))
    assert doc.lead.title == "A minimal document"


def test_a_plain_equals_sign_is_text():
    assert read(minimal(category="category: =")).category == "="


@pytest.mark.parametrize(
    "nested",
    [
        "x: " + "[" * 21 + "]" * 21,
        "x: " + "{a: " * 21 + "1" + "}" * 21,
        "x:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(21)) + " " * 22 + "v",
        "x:\n  " + "- " * 21 + "v",
        "x:\n" + "".join(" " * (2 * i) + "- k:\n" for i in range(11)) + " " * 22 + "- v",
        "x:\n" + "".join(" " * i + "- \n" for i in range(22)),
    ],
    ids=["flow sequences", "flow mappings", "block mappings", "compact sequences", "mixed block", "block sequences"],
)
def test_nesting_deeper_than_20_is_refused_whatever_the_style(nested):
    assert "nested more than 20 levels deep" in error_of(minimal(extra=nested)).problem


def test_nesting_of_15_is_fine():
    read(minimal(extra="x: " + "[" * 15 + "]" * 15))
    read(minimal(extra="x:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(14)) + " " * 15 + "v"))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "file is empty"),
        (b" \r\n\t\n", "file is empty"),
        (b"title: x\n", "no front matter"),
        (b"\n---\ntitle: x\n---\n", "no front matter"),
        (b"---\ntitle: x\n", "not closed"),
        (b"---\n---\n", "front matter is empty"),
        (b"---\n# only a comment\n---\n", "front matter is empty"),
        (b"---\n- a\n- b\n---\n", "must be a mapping of fields, not a list"),
        (b"---\njust text\n---\n", "must be a mapping of fields, not text"),
        (b"---\n42\n---\n", "not a number"),
        (b"---\ntitle: x\x00\n---\n", "NUL bytes"),
        (b"---\ntitle: caf\xe9\n---\n", "not valid UTF-8 (byte 14)"),
        ("---\ntitle: x\n---\n".encode("utf-16"), "UTF-16"),
        (b"---\ntitle: [\n---\n", "invalid YAML"),
        (b"---\ntitle: x\x1b\n---\n", "control characters are not allowed (found U+001B)"),
        (b"---\n%YAML 1.1\n---\n", "invalid YAML"),
    ],
)
def test_broken_files_are_refused_in_one_line(raw, problem):
    error = error_of(raw, "bad.md")
    assert problem in str(error)
    assert str(error).startswith("bad.md: ")
    assert "\n" not in str(error)


def test_a_related_list_over_the_limit_is_refused():
    item = '  - {title: t, webUrl: "https://e.com/%d", publishedDateTime: 2020-01-01, provider: {name: n}}\n'
    related = "related:\n" + "".join(item % n for n in range(documents.MAX_RELATED + 1))
    error = error_of(minimal(related=related.rstrip("\n")))
    assert (error.field, error.problem) == ("related", "has 1,001 items, over the 1,000 limit")
    related = "related:\n" + "".join(item % n for n in range(documents.MAX_RELATED))
    assert len(read(minimal(related=related.rstrip("\n"))).related) == documents.MAX_RELATED


def test_too_many_topics_are_refused():
    topics = "topics:\n" + "".join(f"  - topic {n}\n" for n in range(101))
    assert error_of(minimal(topics=topics.rstrip("\n"))).field == "topics"


def test_text_limits_fit_the_database_columns():
    from stories.models import Article, Provider, Story, Topic

    def length(model, name):
        return model._meta.get_field(name).max_length

    assert length(Article, "title") >= MAX_TITLE
    assert length(Article, "web_url") >= MAX_URL
    assert length(Article, "amp_url") >= MAX_URL
    assert length(Article, "type") >= MAX_TYPE
    assert length(Provider, "name") >= MAX_NAME
    assert length(Story, "category") >= MAX_SHORT
    assert length(Topic, "name") >= MAX_SHORT
    assert length(Topic, "slug") >= MAX_SHORT
    assert documents.MAX_RELATED <= 32767  # Coverage.position is a small integer
    assert read(minimal(title=f'title: "{"x" * MAX_TITLE}"')).lead.title == "x" * MAX_TITLE


@pytest.mark.parametrize(
    ("title", "expected"),
    [("  Spaces   and\ttabs\n ", "Spaces and tabs"), ("Line\\u2028separator", "Line separator")],
)
def test_titles_are_normalized(title, expected):
    assert read(minimal(title=f'title: "{title}"')).lead.title == expected


# --- files --------------------------------------------------------------------------


def test_a_file_over_one_megabyte_is_refused_by_size_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.md"
    path.write_bytes(minimal() + b"#" * documents.MAX_FILE_BYTES)
    monkeypatch.setattr(documents, "parse_front_matter", lambda *a: pytest.fail("parsed"))
    with pytest.raises(DocumentError, match=r"big\.md: file is 1,048,[0-9]{3} bytes, over the 1,048,576-byte limit"):
        read_document(path)


def test_a_file_of_exactly_one_megabyte_is_read(tmp_path):
    path = tmp_path / "fits.md"
    raw = minimal()
    path.write_bytes(raw + b"x" * (documents.MAX_FILE_BYTES - len(raw)))
    assert read_document(path).lead.title == "A minimal document"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(DocumentError, match="not a regular file"):
        read_document(fifo)


def test_a_missing_file_is_a_document_error(tmp_path):
    with pytest.raises(DocumentError, match=r"gone\.md: cannot read file"):
        read_document(tmp_path / "gone.md")


def test_paths_in_messages_print_on_one_line_and_store_anywhere():
    weird = os.fsdecode(b"dir/bad\xff\x1b[31mname\n.md")
    shown = documents.display_path(weird)
    assert shown == "dir/bad\ufffd\\x1b[31mname\\x0a.md"
    shown.encode("utf-8")  # no lone surrogates
    error = error_of(b"", weird)
    assert str(error) == f"{shown}: file is empty"
    doc = read(minimal(), weird)
    assert doc.source_file == shown


# --- the layers under documents: the YAML loader and the field cleaners, alone --------------


def test_the_yaml_loader_gives_the_fields_or_a_problem_without_a_file_name():
    data = yaml_loader.read_front_matter(b"---\ntitle: Hello\ncount: 017\nflag: no\n---\nbody\n")
    assert data == {"title": "Hello", "count": "017", "flag": "no"}  # YAML 1.2: no octal, no "no" boolean
    with pytest.raises(yaml_loader.FrontMatterError) as info:
        yaml_loader.read_front_matter(b"---\na: &x 1\nb: *x\n---\n")
    assert info.value.problem == "YAML anchors and aliases are not allowed (line 2)"
    with pytest.raises(yaml_loader.FrontMatterError, match=r"^front matter must be a mapping of fields, not a list$"):
        yaml_loader.read_front_matter(b"---\n- a\n---\n")
    assert yaml_loader.split_front_matter(b"---\r\nx: 1\r\n---\r\n") == "\nx: 1\r\n"  # CRLF lines too


def test_documents_add_the_file_name_to_a_loader_problem():
    with pytest.raises(DocumentError) as info:
        documents.parse_front_matter(Path("news/a.md"), b"no fence\n")
    assert (info.value.path, info.value.field) == ("news/a.md", None)
    assert str(info.value) == "news/a.md: no front matter: the first line must be ---"


def test_a_field_cleaner_names_the_field_as_the_document_spells_it():
    with pytest.raises(InvalidFieldError) as info:
        clean_url("ftp://example.com/a", "related[2].webUrl", required=True)
    assert (info.value.field, info.value.problem) == ("related[2].webUrl", "must be an http or https URL, not ftp: one")
    assert clean_text({"title": "  Two \n words "}, "title", "related[0].") == "Two words"
    with pytest.raises(InvalidFieldError) as info:
        clean_integer({"quality": "high"}, "quality", "related[1].", default=0, minimum=0)
    assert (info.value.field, info.value.problem) == ("related[1].quality", "must be a whole number, not text")
    assert clean_domain("WWW.Example.COM.", "provider.domain") == "example.com"
    assert clean_topics(["AI", "A.I.", "ai"]) == [("ai", "AI")]
    warnings = []
    assert clean_images([{"url": "javascript:x"}], "images", warnings) == []
    assert warnings == ["images[0].url: must be an http or https URL, not javascript: one; image dropped"]
