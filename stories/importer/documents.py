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
import html.entities
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.utils.text import slugify

MAX_FILE_BYTES = 1024 * 1024  # real documents are about 12 KB
MAX_DEPTH = 20  # real documents nest 4 deep
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
MAX_RELATED = 1000  # real documents hold at most 30; Coverage.position is a small integer
MAX_TOPICS = 100  # real documents hold at most 3
MAX_IMAGES = 50  # per article; real articles have one

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
        self.path = display_path(path)
        self.field = field
        self.problem = problem
        super().__init__(str(self))

    def __str__(self):
        return f"{self.path}: {self.field}: {self.problem}" if self.field else f"{self.path}: {self.problem}"


_UNPRINTABLE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def display_path(path):
    """A file's path as text that prints on one line and that any database stores.

    A file name's bytes that are not UTF-8 (``os.walk`` hands them over as lone
    surrogates, which no database accepts) become U+FFFD; control characters
    (a newline, a terminal escape) become ``\\xNN``.
    """
    text = os.fsencode(path).decode("utf-8", "replace")
    return _UNPRINTABLE_RE.sub(_escape_character, text)


def _escape_character(match):
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class _LooseScalar(str):
    """A plain scalar that YAML 1.1 would coerce (``no``, ``017``, ``0x1f``): kept as its text."""


_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


class SeedLoader(_BaseLoader):
    """libyaml's safe loader, stricter: YAML 1.2 booleans and integers, no
    binary/set/omap/pairs tags, timestamps left as text (validated per field);
    aliases, merge keys, duplicate keys and deep nesting refused (build_data)."""

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

    def construct_plain_text(self, node):
        return str(node.value)

    # libyaml's composer calls back into Python to resolve the tag of every node
    # (hundreds per document). The same answer as PyYAML's Resolver.resolve, for
    # a loader without path resolvers, in fewer steps.
    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR_TAG
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG

    def descend_resolver(self, current_node, current_index):
        pass  # no path resolvers

    def ascend_resolver(self):
        pass

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        return build_data(self, node)


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _refuse(problem, node):
    raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


def build_data(loader, root):
    """The document's Python data from its composed nodes, refusing aliases,
    merge keys, duplicate keys and deep nesting on the way.

    libyaml's composer returns an alias as the very node it names, so a node met
    twice is an alias: refused even if the text scan before parsing missed it,
    and no alias bomb is ever expanded. Building the common nodes (mappings,
    sequences, strings, integers) here directly is also about twice as fast as
    PyYAML's generic constructor; other scalars go through the loader's
    constructors (SeedLoader's strict ones), unknown tags are refused there.
    """
    seen = {id(root)}
    scalar = loader.construct_object

    def build(node, depth):
        cls = node.__class__
        if cls is yaml.ScalarNode:
            if node.tag == _STR_TAG:
                return node.value
            return scalar(node)
        if depth > MAX_DEPTH:
            _refuse(f"nested more than {MAX_DEPTH} levels deep", node)
        if cls is yaml.MappingNode:
            if node.tag != _MAP_TAG:
                scalar(node)  # refuses !!set, !!omap, ... with PyYAML's own message
            data = {}
            for key_node, value_node in node.value:
                for child in (key_node, value_node):
                    if id(child) in seen:
                        _refuse("YAML anchors and aliases are not allowed", child)
                    seen.add(id(child))
                if key_node.tag == _MERGE_TAG or (key_node.__class__ is yaml.ScalarNode and key_node.value == "<<"):
                    _refuse("merge keys (<<) are not allowed", key_node)
                key = build(key_node, depth + 1)
                try:
                    if key in data:
                        _refuse(f"duplicate key {key_node.value!r}", key_node)
                except TypeError:
                    _refuse("found unhashable key", key_node)
                data[key] = build(value_node, depth + 1)
            return data
        if node.tag != _SEQ_TAG:
            scalar(node)
        items = []
        for child in node.value:
            if id(child) in seen:
                _refuse("YAML anchors and aliases are not allowed", child)
            seen.add(id(child))
            items.append(build(child, depth + 1))
        return items

    return build(root, 1)


SeedLoader.yaml_constructors["tag:yaml.org,2002:bool"] = SeedLoader.construct_strict_bool
SeedLoader.yaml_constructors["tag:yaml.org,2002:int"] = SeedLoader.construct_strict_int
SeedLoader.yaml_constructors["tag:yaml.org,2002:timestamp"] = SeedLoader.construct_timestamp_text
# YAML 1.1 resolves a plain ``=`` to a "value" tag that no safe constructor builds.
SeedLoader.yaml_constructors["tag:yaml.org,2002:value"] = SeedLoader.construct_plain_text


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
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block forever, a device never ends
            raise DocumentError(path, None, "not a regular file")
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(path, None, f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DocumentError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise DocumentError(path, None, f"file is over the {MAX_FILE_BYTES:,}-byte limit")
    return raw


# The event scan (about a fifth of the parse time) is skipped for documents that
# can hold neither a node property nor deep nesting, as real documents can't.
# An anchor &x or alias *x may only start after whitespace, a flow indicator, a
# line start or the ':' of a quoted key ({"k":*x}); the node check after
# composing refuses aliases again, in case. Without flow collections ([ {),
# compact nesting (- - x) and lines indented 10 or more, block nesting stays
# under MAX_DEPTH: each level costs a column. Real documents indent 8 at most.
# These checks use str.find (C speed): a regex pass over a 12 KB document costs
# as much as a tenth of its parse.
_PROPERTY_START = frozenset(" \t\r\n[{,:")
_PROPERTY_STOP = frozenset(" \t\r\n,[]{}")
# An indicator, whitespace, an indicator: one of these appears in any compact nesting.
_COMPACT_MARKS = ("- -", "- ?", "? -", "? ?", "-  ", "?  ", "-\t", "?\t", "- \t", "? \t")
_FENCE_RE = re.compile(r"^---\r?$", re.MULTILINE)


def _may_hold_property(text):
    for mark in "&*":
        index = text.find(mark)
        while index != -1:
            before = text[index - 1] if index else "\n"
            after = text[index + 1 : index + 2]
            if before in _PROPERTY_START and after and after not in _PROPERTY_STOP:
                return True
            index = text.find(mark, index + 1)
    return False


def _needs_event_scan(text):
    return (
        "[" in text
        or "{" in text
        or "\t" in text
        or "\n          " in text
        or any(mark in text for mark in _COMPACT_MARKS)
        or _may_hold_property(text)
    )


def split_front_matter(path, raw):
    """The front matter's text: between a first line ``---`` and the next line that is exactly ``---``."""
    if not raw.strip():
        raise DocumentError(path, None, "file is empty")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(path, None, "not valid UTF-8: the file is UTF-16")
    if b"\x00" in raw:
        raise DocumentError(path, None, "file contains NUL bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(path, None, f"not valid UTF-8 (byte {exc.start})") from None
    first = _FENCE_RE.match(text)
    if not first:
        raise DocumentError(path, None, "no front matter: the first line must be ---")
    # The closing line is exactly ---: found with str.find when every line ends
    # in LF, else by the line-anchored pattern (CRLF, or --- at the very end).
    start = first.end()
    end = text.find("\n---\n", start - 1) if "\r" not in text else -1
    if end != -1:
        return text[start : end + 1]
    match = _FENCE_RE.search(text, start)
    if not match:
        raise DocumentError(path, None, "front matter is not closed: no second --- line")
    return text[start : match.start()]


def parse_front_matter(path, raw):
    text = split_front_matter(path, raw)
    if _needs_event_scan(text):
        _scan_events(path, text)
    loader = _new_loader(path, SeedLoader, text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise DocumentError(path, None, f"invalid YAML: {_yaml_problem(exc)}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(path, None, f"invalid YAML: {_yaml_other_problem(exc)}") from None
    except (ValueError, TypeError, RecursionError) as exc:  # int("9" * 5000), for one
        raise DocumentError(path, None, f"invalid YAML value: {str(exc).split(';')[0]}") from None
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
    loader = _new_loader(path, _BaseLoader, text)
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
        raise DocumentError(path, None, f"invalid YAML: {_yaml_other_problem(exc)}") from None
    finally:
        loader.dispose()


def _new_loader(path, loader_class, text):
    # PyYAML's pure-Python reader checks the characters when it is built (libyaml's
    # only when it reads): either way one line naming the file.
    try:
        return loader_class(text)
    except yaml.YAMLError as exc:
        raise DocumentError(path, None, f"invalid YAML: {_yaml_other_problem(exc)}") from None


def _line(event):
    mark = getattr(event, "start_mark", None)
    # the front matter text starts on the opening --- line (its newline), so +1
    return mark.line + 1 if mark is not None else "?"


def _yaml_problem(exc):
    mark = exc.problem_mark or exc.context_mark
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{exc.problem or exc.context or 'cannot parse'}{where}"


def _yaml_other_problem(exc):
    """One line (a ReaderError's text spans two)."""
    if isinstance(exc, yaml.reader.ReaderError):
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return f"{exc.reason} (found U+{character:04X})"
    return " ".join(str(exc).split())


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
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Control characters never belong in text (a NUL is refused by PostgreSQL);
# tabs and line breaks do, and are normalized.
_TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    _refuse_control_characters(value, name)
    value = value.strip() if multiline else " ".join(value.split())
    if len(value) > max_length:
        raise _InvalidFieldError(name, f"is {len(value):,} characters long, over the {max_length:,} limit")
    return value


def _refuse_control_characters(value, name):
    bad = _TEXT_CONTROL_RE.search(value)
    if bad:
        raise _InvalidFieldError(name, f"must not contain control characters (found U+{ord(bad.group()):04X})")


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
    url = unescape_entities(value.strip())
    if len(url) <= MAX_URL and _PLAIN_URL_RE.fullmatch(url):
        return url  # the usual case, decided by one pattern; anything else takes the checks below
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
        raise _InvalidFieldError(name, "is missing")
    if isinstance(value, datetime):  # only from a loader that builds timestamps
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = _parse_time(value.strip())
        except ValueError as exc:
            raise _InvalidFieldError(name, f"is not a valid date and time ({_preview(value)}: {exc})") from None
    else:
        raise _InvalidFieldError(name, f"must be a date and time, not {_kind(value)}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise _InvalidFieldError(
            name, f"is out of range ({_preview(value)} falls outside years 1 to 9999 in UTC)"
        ) from None


def _preview(value, limit=60):
    return repr(value if len(value) <= limit else f"{value[:limit]}...")


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
    if len(value) > MAX_IMAGES:
        warnings.append(f"{name}: has {len(value):,} images; only the first {MAX_IMAGES} are kept")
        value = value[:MAX_IMAGES]
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
    article_type = _text(item, "type", where, max_length=MAX_TYPE) or "article"
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
    if len(value) > MAX_TOPICS:
        raise _InvalidFieldError("topics", f"has {len(value):,} topics, over the {MAX_TOPICS} limit")
    topics = {}
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise _InvalidFieldError(f"topics[{index}]", f"must be a topic name, not {_kind(name)}")
        _refuse_control_characters(name, f"topics[{index}]")
        name = " ".join(name.split())
        if len(name) > MAX_SHORT:
            raise _InvalidFieldError(f"topics[{index}]", f"is over the {MAX_SHORT}-character limit")
        slug = slugify(name)[:MAX_SHORT]
        if not slug:
            if not slugify(name, allow_unicode=True):
                raise _InvalidFieldError(f"topics[{index}]", f"{name!r} has no letters or digits")
            # A name in a script with no ASCII letters ("人工知能"): the topic's address
            # (<slug:slug>) takes ASCII only, so the slug is made from the name's hash.
            slug = f"topic-{hashlib.blake2b(name.encode(), digest_size=5).hexdigest()}"
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
        if secured:
            _refuse_control_characters(secured, "secured")
        topics = clean_topics(data.get("topics"))
        category = _text(data, "category", "", max_length=MAX_SHORT).lower()
        related_raw = data.get("related")
        if related_raw is not None and not isinstance(related_raw, list):
            raise _InvalidFieldError("related", f"must be a list, not {_kind(related_raw)}")
        if related_raw and len(related_raw) > MAX_RELATED:
            raise _InvalidFieldError("related", f"has {len(related_raw):,} items, over the {MAX_RELATED:,} limit")
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
        source_file=display_path(path),
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
