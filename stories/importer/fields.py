"""The cleaners of a seed document's fields, one field each (no database, no file names).

Each takes a value as the YAML loader built it and the field's name as the
document spells it (``related[2].webUrl``), and returns the clean value or
raises ``InvalidFieldError(field, problem)``; ``documents`` adds the file's
name. A value that must not sink its article (a broken image) is dropped with a
warning instead.
"""

import hashlib
import html
import html.entities
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

from django.utils.text import slugify

from stories.importer.yaml_loader import kind
from stories.pictures import refusal as picture_refusal

# Text limits are the database columns' (stories.models): a longer value must be
# refused here, naming the field, not by the database (PostgreSQL raises, SQLite
# stores it anyway).
MAX_TITLE = 500  # Article.title
MAX_EXCERPT = 20_000
MAX_URL = 2000  # Article.web_url
MAX_NAME = 200  # Provider.name
MAX_SHORT = 100  # Story.category, Topic.name and Topic.slug
MAX_TYPE = 50  # Article.type
MAX_INT = 2**31 - 1  # what every database's integer column holds
MAX_TOPICS = 100  # real documents hold at most 3
MAX_IMAGES = 50  # per article; real articles have one


_HOST_RE = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
# Direction embeddings, overrides and isolates: each holds until it is closed, so one left open
# turns the text after it around. Pages isolate headlines and excerpts (dir="auto"), but names
# are set inside sentences ("Read the full article at ..."), and no real name needs them
# (the marks U+200E and U+200F, which open nothing, are allowed in names).
_DIRECTION_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
_DIRECTION_CONTROL_RE = re.compile(f"[{_DIRECTION_CONTROLS}]")
_CONTROL_RE = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f{_DIRECTION_CONTROLS}]")  # in URLs
# Control characters never belong in text (a NUL is refused by PostgreSQL);
# tabs and line breaks do, and are normalized.
_TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidFieldError(Exception):
    """A field's problem: ``field`` as the document spells it (``related[2].webUrl``), ``problem`` in words."""

    def __init__(self, field, problem):
        self.field = field
        self.problem = problem


def clean_text(item, key, where, *, required=False, max_length=MAX_NAME, multiline=False, label=False):
    """``item[key]`` as text, its spaces collapsed (only trimmed if ``multiline``); '' when absent and optional.

    A ``label`` (an outlet's name, a category) must not hold direction controls either.
    """
    value = item.get(key)
    field = f"{where}{key}"
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidFieldError(field, "is missing" if key not in item or value is None else "is empty")
        return ""
    if not isinstance(value, str):
        raise InvalidFieldError(field, f"must be text, not {kind(value)}")
    refuse_control_characters(value, field)
    if label:
        refuse_direction_controls(value, field)
    value = value.strip() if multiline else " ".join(value.split())
    if len(value) > max_length:
        raise InvalidFieldError(field, f"is {len(value):,} characters long, over the {max_length:,} limit")
    return value


def refuse_control_characters(value, name):
    """Raise if ``value`` holds a control character other than a tab or a line break."""
    bad = _TEXT_CONTROL_RE.search(value)
    if bad:
        raise InvalidFieldError(name, f"must not contain control characters (found U+{ord(bad.group()):04X})")


def refuse_direction_controls(value, name):
    """Raise if ``value`` holds a direction embedding, override or isolate (U+202A-U+202E, U+2066-U+2069)."""
    bad = _DIRECTION_CONTROL_RE.search(value)
    if bad:
        raise InvalidFieldError(name, f"must not contain direction controls (found U+{ord(bad.group()):04X})")


def clean_integer(item, key, where, *, default, minimum):
    """``item[key]``, a whole number from ``minimum`` to what a database column holds; ``default`` when absent."""
    value = item.get(key)
    name = f"{where}{key}"
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFieldError(name, f"must be a whole number, not {kind(value)}")
    if value < minimum:
        raise InvalidFieldError(name, f"must be {minimum} or more, not {value}")
    if value > MAX_INT:
        raise InvalidFieldError(name, f"is too large ({value})")
    return value


def clean_url(value, name, *, required=False):
    """An absolute http(s) URL, HTML entities unescaped once; '' when absent and optional."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidFieldError(name, "is missing")
        return ""
    if not isinstance(value, str):
        raise InvalidFieldError(name, f"must be a URL, not {kind(value)}")
    url = unescape_entities(value.strip())
    if len(url) <= MAX_URL and _PLAIN_URL_RE.fullmatch(url):
        return url  # the usual case, decided by one pattern; anything else takes the checks below
    if _CONTROL_RE.search(url) or " " in url:
        raise InvalidFieldError(name, "must not contain spaces, line breaks or control characters")
    if len(url) > MAX_URL:
        raise InvalidFieldError(name, f"is over the {MAX_URL}-character limit")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidFieldError(name, f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in {"http", "https"}:
        if url.startswith("//"):
            raise InvalidFieldError(name, "must start with http:// or https:// (protocol-relative URLs are refused)")
        raise InvalidFieldError(
            name, f"must be an http or https URL, not {parts.scheme or 'a relative'}{':' if parts.scheme else ''} one"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.username is not None or parts.password is not None:
        raise InvalidFieldError(name, "must name a host (and no user name or password)")
    if not (_HOST_RE.fullmatch(host) or _is_ip_literal(parts.netloc)):
        raise InvalidFieldError(name, f"has an invalid host name {host!r}")
    if port == 0:
        raise InvalidFieldError(name, "has an invalid port")
    return url


# A lower-case http(s) URL with a plain DNS host (no user, no port) and a
# printable-ASCII rest: a subset of what the full checks in clean_url accept.
_PLAIN_URL_RE = re.compile(
    r"https?://(?=[^/?#]{1,253}(?:[/?#]|\Z))(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:[/?#][\x21-\x7e]*)?"
)
_ENTITY_RE = re.compile(r"&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|([A-Za-z][A-Za-z0-9]*)(;?))")


def unescape_entities(text):
    """HTML character references decoded once, the way a browser decodes an attribute.

    ``html.unescape`` also decodes a legacy name without its ``;`` inside a longer
    word, which corrupts query strings: ``&region=us`` would become ``®ion=us``,
    ``&para=1`` ``¶=1``. In an attribute a named reference without ``;`` is
    decoded only when it is a whole legacy name not followed by ``=`` (``&amp&``,
    or ``&amp`` at the end); numeric ones always are.
    """
    if "&" not in text:
        return text

    def decode(match):
        name, semicolon = match.group(1), match.group(2)
        if name is None:
            return html.unescape(match.group())
        if semicolon:
            return html.entities.html5.get(f"{name};", match.group())
        if name in html.entities.html5 and text[match.end() : match.end() + 1] != "=":
            return html.entities.html5[name]
        return match.group()

    return _ENTITY_RE.sub(decode, text)


def _is_ip_literal(netloc):
    return bool(re.fullmatch(r"\[[0-9a-fA-F:.]+\](?::\d+)?", netloc))


# YAML 1.1's timestamp (what PyYAML's resolver and constructor accept): one-digit
# months, days and hours, a space or a T, any fraction, a zone of Z or +-H[H][:MM].
_TIMESTAMP_RE = re.compile(
    r"""(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})
    (?:(?:[Tt]|[ \t]+)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})
    (?:\.(?P<fraction>[0-9]*))?
    (?:[ \t]*(?:(?P<utc>[Zz])|(?P<sign>[-+])(?P<tz_hour>[0-9]{1,2})(?::?(?P<tz_minute>[0-9]{2}))?))?)?""",
    re.VERBOSE,
)


def _parse_time(text):
    """A datetime (naive when no zone is given) from YAML timestamp text, else ISO 8601; ValueError."""
    match = _TIMESTAMP_RE.fullmatch(text)
    if not match:
        if re.match(r"[+-]?[0-9]{5,}-", text):
            raise ValueError("the year is after 9999")
        return datetime.fromisoformat(text)
    parts = match.groupdict()
    if not parts["hour"]:
        return datetime(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    zone = None
    if parts["utc"]:
        zone = UTC
    elif parts["sign"]:
        offset = timedelta(hours=int(parts["tz_hour"]), minutes=int(parts["tz_minute"] or 0))
        zone = timezone(-offset if parts["sign"] == "-" else offset)  # ValueError past 24 hours
    return datetime(
        int(parts["year"]),
        int(parts["month"]),
        int(parts["day"]),
        int(parts["hour"]),
        int(parts["minute"]),
        int(parts["second"]),
        int((parts["fraction"] or "")[:6].ljust(6, "0")),
        tzinfo=zone,
    )


def clean_time(value, name):
    """An aware UTC datetime from a YAML timestamp; a time without a zone is UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidFieldError(name, "is missing")
    if isinstance(value, datetime):  # only from a loader that builds timestamps
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = _parse_time(value.strip())
        except ValueError as exc:
            raise InvalidFieldError(name, f"is not a valid date and time ({preview(value)}: {exc})") from None
    else:
        raise InvalidFieldError(name, f"must be a date and time, not {kind(value)}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidFieldError(
            name, f"is out of range ({preview(value)} falls outside years 1 to 9999 in UTC)"
        ) from None


def preview(value, limit=60):
    """A text value as a message shows it: quoted, cut after ``limit`` characters."""
    return repr(value if len(value) <= limit else f"{value[:limit]}...")


def clean_domain(value, name):
    """An outlet's domain: a host name in lower case, without ``www.`` or a final dot."""
    if not isinstance(value, str):
        raise InvalidFieldError(name, f"must be a domain name, not {kind(value)}")
    domain = value.strip().lower().rstrip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    if not _HOST_RE.fullmatch(domain):
        raise InvalidFieldError(name, f"is not a valid domain name ({value!r})")
    return domain


def clean_images(value, name, warnings):
    """Valid images only; a broken one is dropped with a warning (it never sinks the article)."""
    if value is None:
        return []
    if not isinstance(value, list):
        warnings.append(f"{name}: must be a list, not {kind(value)}; ignored")
        return []
    images = []
    if len(value) > MAX_IMAGES:
        warnings.append(f"{name}: has {len(value):,} images; only the first {MAX_IMAGES} are kept")
        value = value[:MAX_IMAGES]
    for index, image in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(image, dict):
            warnings.append(f"{where}: must be a mapping, not {kind(image)}; image dropped")
            continue
        try:
            url = clean_url(image.get("url"), f"{where}.url", required=True)
        except InvalidFieldError as exc:
            warnings.append(f"{exc.field}: {exc.problem}; image dropped")
            continue
        problem = picture_refusal(url)  # the one picture policy, the CSP's img-src too
        if problem:
            warnings.append(f"{where}.url: {problem}; image dropped")
            continue
        width, height = image.get("width"), image.get("height")
        if not (_positive_int(width) and _positive_int(height)):
            width = height = None
        images.append({"url": url, "width": width, "height": height, "cached": image.get("isCached") is True})
    return images


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 20_000


def clean_topics(value):
    """(slug, name) pairs, in order, one per slug; a name without ASCII letters gets a slug made from its hash."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidFieldError("topics", f"must be a list, not {kind(value)}")
    if len(value) > MAX_TOPICS:
        raise InvalidFieldError("topics", f"has {len(value):,} topics, over the {MAX_TOPICS} limit")
    topics = {}
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise InvalidFieldError(f"topics[{index}]", f"must be a topic name, not {kind(name)}")
        refuse_control_characters(name, f"topics[{index}]")
        refuse_direction_controls(name, f"topics[{index}]")
        name = " ".join(name.split())
        if len(name) > MAX_SHORT:
            raise InvalidFieldError(f"topics[{index}]", f"is over the {MAX_SHORT}-character limit")
        slug = slugify(name)[:MAX_SHORT]
        if not slug:
            if not slugify(name, allow_unicode=True):
                raise InvalidFieldError(f"topics[{index}]", f"{name!r} has no letters or digits")
            # A name in a script with no ASCII letters ("人工知能"): the topic's address
            # (<slug:slug>) takes ASCII only, so the slug is made from the name's hash.
            slug = f"topic-{hashlib.blake2b(name.encode(), digest_size=5).hexdigest()}"
        topics.setdefault(slug, name)
    return list(topics.items())
