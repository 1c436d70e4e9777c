"""Read one seed document and validate it into plain data.

No ORM here: ``read_document(path)`` returns a ``StoryData`` or raises
``DocumentError`` naming the file, the field and the problem. It can be tested
(and run in worker processes) without a database.

A seed document is a text file whose YAML front matter (between the first two
lines that are exactly ``---``) describes one lead article, its outlet, topics
and a ``related`` list of other outlets' coverage of the same news.
"""

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.utils.text import slugify

MAX_FILE_BYTES = 1024 * 1024  # real documents are about 12 KB
MAX_DEPTH = 20  # real documents nest 4 deep
MAX_TITLE = 1000
MAX_EXCERPT = 20_000
MAX_URL = 2000
MAX_NAME = 200
MAX_SHORT = 100  # category, type, topic names
MAX_INT = 2**31 - 1  # what every database's integer column holds

if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - depends on the build
    import warnings

    warnings.warn(
        "PyYAML was built without libyaml: importing seed documents will be about ten times slower.",
        stacklevel=1,
    )
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = yaml.CSafeLoader


class DocumentError(Exception):
    """A document, or one item of it, breaks a rule of the format."""

    def __init__(self, path, field, problem):
        self.path = str(path)
        self.field = field
        self.problem = problem
        super().__init__(str(self))

    def __str__(self):
        return f"{self.path}: {self.field}: {self.problem}" if self.field else f"{self.path}: {self.problem}"


class _LooseScalar(str):
    """A plain scalar that YAML 1.1 would coerce (``no``, ``017``, ``0x1f``): kept as its text."""


_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


class SeedLoader(_BaseLoader):
    """libyaml's safe loader, stricter: YAML 1.2 booleans and integers, no
    binary/set/omap/pairs tags, timestamps left as text (validated per field),
    duplicate keys refused."""

    yaml_constructors = {
        tag: constructor
        for tag, constructor in _BaseLoader.yaml_constructors.items()
        if tag
        not in {
            "tag:yaml.org,2002:binary",
            "tag:yaml.org,2002:set",
            "tag:yaml.org,2002:omap",
            "tag:yaml.org,2002:pairs",
        }
    }
    yaml_multi_constructors = {}

    def construct_strict_bool(self, node):
        value = node.value
        return _BOOLS[value] if value in _BOOLS else _LooseScalar(value)

    def construct_strict_int(self, node):
        value = node.value
        return int(value) if _INT_RE.fullmatch(value) else _LooseScalar(value)

    def construct_timestamp_text(self, node):
        return str(node.value)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key == "<<":
                raise yaml.constructor.ConstructorError(
                    None, None, "merge keys (<<) are not allowed", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            if key is not None:
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


SeedLoader.yaml_constructors["tag:yaml.org,2002:bool"] = SeedLoader.construct_strict_bool
SeedLoader.yaml_constructors["tag:yaml.org,2002:int"] = SeedLoader.construct_strict_int
SeedLoader.yaml_constructors["tag:yaml.org,2002:timestamp"] = SeedLoader.construct_timestamp_text


@dataclass(slots=True)
class ArticleData:
    title: str
    web_url: str
    published_at: datetime
    provider_name: str
    provider_domain: str
    excerpt: str = ""
    amp_url: str = ""
    cdn_amp_url: str = ""
    type: str = "article"
    quality: int = 0
    heat: int = -1
    images: list = field(default_factory=list)


@dataclass(slots=True)
class StoryData:
    source_file: str
    content_hash: str
    lead: ArticleData
    related: list  # of ArticleData, in document order, deduplicated, without the lead's URL
    topics: list  # of (slug, name)
    category: str = ""
    quality: int = 0
    heat: int = -1
    published: bool = True
    secured: str = ""
    warnings: list = field(default_factory=list)


def content_hash(raw):
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def read_document(path, raw=None):
    """Read, parse and validate one file. Raises DocumentError."""
    path = Path(path)
    if raw is None:
        raw = read_bytes(path)
    data = parse_front_matter(path, raw)
    return validate_document(path, data, content_hash(raw))


def read_bytes(path):
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(path, None, f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DocumentError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise DocumentError(path, None, f"file is over the {MAX_FILE_BYTES:,}-byte limit")
    return raw


# A node property (anchor &x, alias *x) may only start after whitespace, a flow
# indicator or a line start. Documents with none of those skip the slower
# event scan; so do documents that cannot nest deeply.
_PROPERTY_RE = re.compile(r"(?:^|[\s\[{,])[&*][^\s,\[\]{}]", re.MULTILINE)
_COMPACT_NEST_RE = re.compile(r"[-?][ \t]+[-?](?:[ \t\r\n]|$)", re.MULTILINE)
_FENCE_RE = re.compile(r"^---\r?$", re.MULTILINE)


def split_front_matter(path, raw):
    """The front matter's text: between a first line ``---`` and the next line that is exactly ``---``."""
    if not raw.strip():
        raise DocumentError(path, None, "file is empty")
    if b"\x00" in raw:
        raise DocumentError(path, None, "file contains NUL bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(path, None, f"not valid UTF-8 (byte {exc.start})") from None
    first = _FENCE_RE.match(text)
    if not first:
        raise DocumentError(path, None, "no front matter: the first line must be ---")
    end = _FENCE_RE.search(text, first.end())
    if not end:
        raise DocumentError(path, None, "front matter is not closed: no second --- line")
    return text[first.end() : end.start()]


def parse_front_matter(path, raw):
    text = split_front_matter(path, raw)
    if _PROPERTY_RE.search(text) or _COMPACT_NEST_RE.search(text) or text.count("[") + text.count("{") > 64:
        _scan_events(path, text)
    loader = SeedLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise DocumentError(path, None, f"invalid YAML: {_yaml_problem(exc)}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(path, None, f"invalid YAML: {exc}") from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise DocumentError(path, None, f"invalid YAML value: {exc}") from None
    finally:
        loader.dispose()
    if data is None:
        raise DocumentError(path, None, "front matter is empty")
    if not isinstance(data, dict):
        raise DocumentError(path, None, f"front matter must be a mapping of fields, not {_kind(data)}")
    return data


def _scan_events(path, text):
    """Refuse anchors, aliases and deep nesting before any node is built.

    libyaml's composer recurses in C (a deep enough document crashes the
    process) and an alias bomb expands when the data is walked, so both are
    refused from the event stream, which costs no recursion.
    """
    loader = _BaseLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise DocumentError(path, None, f"YAML anchors and aliases are not allowed (line {_line(event)})")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise DocumentError(path, None, f"nested more than {MAX_DEPTH} levels deep (line {_line(event)})")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        raise DocumentError(path, None, f"invalid YAML: {_yaml_problem(exc)}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _line(event):
    mark = getattr(event, "start_mark", None)
    # the front matter text starts on the opening --- line (its newline), so +1
    return mark.line + 1 if mark is not None else "?"


def _yaml_problem(exc):
    mark = exc.problem_mark or exc.context_mark
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{exc.problem or exc.context or 'cannot parse'}{where}"


def _kind(value):
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, _LooseScalar):
        return f"{str(value)!r}"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


# --- validation -------------------------------------------------------------

_HOST_RE = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


class _InvalidFieldError(Exception):
    """A field's problem, raised inside validation and turned into DocumentError with the path."""

    def __init__(self, field, problem):
        self.field = field
        self.problem = problem


def _text(item, key, where, *, required=False, max_length=MAX_NAME, multiline=False):
    value = item.get(key)
    name = f"{where}{key}"
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _InvalidFieldError(name, "is missing" if key not in item or value is None else "is empty")
        return ""
    if not isinstance(value, str):
        raise _InvalidFieldError(name, f"must be text, not {_kind(value)}")
    value = value.strip() if multiline else " ".join(value.split())
    if len(value) > max_length:
        raise _InvalidFieldError(name, f"is {len(value):,} characters long, over the {max_length:,} limit")
    return value


def _integer(item, key, where, *, default, minimum):
    value = item.get(key)
    name = f"{where}{key}"
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _InvalidFieldError(name, f"must be a whole number, not {_kind(value)}")
    if value < minimum:
        raise _InvalidFieldError(name, f"must be {minimum} or more, not {value}")
    if value > MAX_INT:
        raise _InvalidFieldError(name, f"is too large ({value})")
    return value


def clean_url(value, name, *, required=False):
    """An absolute http(s) URL, HTML entities unescaped once; '' when absent and optional."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _InvalidFieldError(name, "is missing")
        return ""
    if not isinstance(value, str):
        raise _InvalidFieldError(name, f"must be a URL, not {_kind(value)}")
    url = html.unescape(value.strip())
    if _CONTROL_RE.search(url) or " " in url:
        raise _InvalidFieldError(name, "must not contain spaces, line breaks or control characters")
    if len(url) > MAX_URL:
        raise _InvalidFieldError(name, f"is over the {MAX_URL}-character limit")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _InvalidFieldError(name, f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in {"http", "https"}:
        if url.startswith("//"):
            raise _InvalidFieldError(name, "must start with http:// or https:// (protocol-relative URLs are refused)")
        raise _InvalidFieldError(
            name, f"must be an http or https URL, not {parts.scheme or 'a relative'}{':' if parts.scheme else ''} one"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.username is not None or parts.password is not None:
        raise _InvalidFieldError(name, "must name a host (and no user name or password)")
    if not (_HOST_RE.fullmatch(host) or _is_ip_literal(parts.netloc)):
        raise _InvalidFieldError(name, f"has an invalid host name {host!r}")
    if port == 0:
        raise _InvalidFieldError(name, "has an invalid port")
    return url


def _is_ip_literal(netloc):
    return bool(re.fullmatch(r"\[[0-9a-fA-F:.]+\](?::\d+)?", netloc))


def clean_time(value, name):
    """An aware UTC datetime from a YAML timestamp; a time without a zone is UTC."""
    if value is None or value == "":
        raise _InvalidFieldError(name, "is missing")
    if isinstance(value, datetime):  # only from a loader that builds timestamps
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d\d?-\d\d?", text):
            text += "T00:00:00"
        # YAML allows a space before the zone and a lower-case t/z.
        text = re.sub(r"\s+(?=[+-]\d\d(:?\d\d)?$|Z$)", "", text.replace("t", "T", 1).replace("z", "Z"))
        try:
            parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError as exc:
            raise _InvalidFieldError(name, f"is not a valid date and time ({value!r}: {exc})") from None
    else:
        raise _InvalidFieldError(name, f"must be a date and time, not {_kind(value)}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise _InvalidFieldError(name, f"is out of range ({value!r} falls outside years 1 to 9999 in UTC)") from None


def clean_domain(value, name):
    if not isinstance(value, str):
        raise _InvalidFieldError(name, f"must be a domain name, not {_kind(value)}")
    domain = value.strip().lower().rstrip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    if not _HOST_RE.fullmatch(domain):
        raise _InvalidFieldError(name, f"is not a valid domain name ({value!r})")
    return domain


def clean_images(value, name, warnings):
    """Valid images only; a broken one is dropped with a warning (it never sinks the article)."""
    if value is None:
        return []
    if not isinstance(value, list):
        warnings.append(f"{name}: must be a list, not {_kind(value)}; ignored")
        return []
    images = []
    for index, image in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(image, dict):
            warnings.append(f"{where}: must be a mapping, not {_kind(image)}; image dropped")
            continue
        try:
            url = clean_url(image.get("url"), f"{where}.url", required=True)
        except _InvalidFieldError as exc:
            warnings.append(f"{exc.field}: {exc.problem}; image dropped")
            continue
        width, height = image.get("width"), image.get("height")
        if not (_positive_int(width) and _positive_int(height)):
            width = height = None
        images.append({"url": url, "width": width, "height": height, "cached": image.get("isCached") is True})
    return images


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 20_000


def clean_article(item, where, warnings):
    """One article (the lead, or a related item) from its mapping."""
    if not isinstance(item, dict):
        raise _InvalidFieldError(where.rstrip(".") or "document", f"must be a mapping, not {_kind(item)}")
    title = _text(item, "title", where, required=True, max_length=MAX_TITLE)
    web_url = clean_url(item.get("webUrl"), f"{where}webUrl", required=True)
    published_at = clean_time(item.get("publishedDateTime"), f"{where}publishedDateTime")
    provider = item.get("provider")
    if provider is None:
        raise _InvalidFieldError(f"{where}provider", "is missing")
    if not isinstance(provider, dict):
        raise _InvalidFieldError(f"{where}provider", f"must be a mapping with a name, not {_kind(provider)}")
    provider_name = _text(provider, "name", f"{where}provider.", required=True)
    raw_domain = provider.get("domain")
    if raw_domain is None or raw_domain == "":
        domain = clean_domain(urlsplit(web_url).hostname or "", f"{where}webUrl")
    else:
        domain = clean_domain(raw_domain, f"{where}provider.domain")
    article_type = _text(item, "type", where, max_length=MAX_SHORT) or "article"
    return ArticleData(
        title=title,
        web_url=web_url,
        published_at=published_at,
        provider_name=provider_name,
        provider_domain=domain,
        excerpt=_text(item, "excerpt", where, max_length=MAX_EXCERPT, multiline=True),
        amp_url=clean_url(item.get("ampWebUrl"), f"{where}ampWebUrl"),
        cdn_amp_url=clean_url(item.get("cdnAmpWebUrl"), f"{where}cdnAmpWebUrl"),
        type=article_type.lower(),
        quality=_integer(item, "quality", where, default=0, minimum=0),
        heat=_integer(item, "heat", where, default=-1, minimum=-1),
        images=clean_images(item.get("images"), f"{where}images", warnings),
    )


def clean_topics(value):
    if value is None:
        return []
    if not isinstance(value, list):
        raise _InvalidFieldError("topics", f"must be a list, not {_kind(value)}")
    topics = {}
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise _InvalidFieldError(f"topics[{index}]", f"must be a topic name, not {_kind(name)}")
        name = " ".join(name.split())
        if len(name) > MAX_SHORT:
            raise _InvalidFieldError(f"topics[{index}]", f"is over the {MAX_SHORT}-character limit")
        slug = slugify(name)[:MAX_SHORT]
        if not slug:
            slug = slugify(name, allow_unicode=True)[:MAX_SHORT]
        if not slug:
            raise _InvalidFieldError(f"topics[{index}]", f"{name!r} has no letters or digits")
        topics.setdefault(slug, name)
    return list(topics.items())


def validate_document(path, data, digest):
    warnings = []
    try:
        lead = clean_article(data, "", warnings)
        published = data.get("published")
        if published is None:
            published = True  # absent means published, as in Jekyll
        elif not isinstance(published, bool):
            raise _InvalidFieldError("published", f"must be true or false, not {_kind(published)}")
        secured = data.get("secured")
        if secured is not None and not isinstance(secured, str):
            raise _InvalidFieldError("secured", f"must be text, not {_kind(secured)}")
        topics = clean_topics(data.get("topics"))
        category = _text(data, "category", "", max_length=MAX_SHORT).lower()
        related_raw = data.get("related")
        if related_raw is not None and not isinstance(related_raw, list):
            raise _InvalidFieldError("related", f"must be a list, not {_kind(related_raw)}")
    except _InvalidFieldError as exc:
        raise DocumentError(path, exc.field, exc.problem) from None

    related, seen = [], {lead.web_url}
    for index, item in enumerate(related_raw or []):
        where = f"related[{index}]"
        try:
            article = clean_article(item, f"{where}.", warnings)
        except _InvalidFieldError as exc:
            warnings.append(f"{exc.field}: {exc.problem}; item dropped")
            continue
        if article.web_url == lead.web_url:
            warnings.append(f"{where}: is the lead article itself; not counted as coverage")
            continue
        if article.web_url in seen:
            warnings.append(f"{where}: repeats an earlier item's URL; kept once")
            continue
        seen.add(article.web_url)
        related.append(article)

    return StoryData(
        source_file=str(path),
        content_hash=digest,
        lead=lead,
        related=related,
        topics=topics,
        category=category,
        quality=lead.quality,
        heat=lead.heat,
        published=published,
        secured=(secured or "").strip(),
        warnings=warnings,
    )
