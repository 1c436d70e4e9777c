"""Read one seed document and validate it into plain data.

No ORM here: ``read_document(path)`` returns a ``StoryData`` or raises
``DocumentError`` naming the file, the field and the problem. It can be tested
(and run in worker processes) without a database.

A seed document is a text file whose YAML front matter (between the first two
lines that are exactly ``---``) describes one lead article, its outlet, topics
and a ``related`` list of other outlets' coverage of the same news.

This module puts a document together; the front matter is loaded by
``yaml_loader`` (the strict YAML loader) and each field is cleaned by
``fields``. Both raise errors without the file's name, added here.
"""

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from stories.importer.fields import (
    MAX_EXCERPT,
    MAX_SHORT,
    MAX_TITLE,
    MAX_TYPE,
    InvalidFieldError,
    clean_domain,
    clean_images,
    clean_integer,
    clean_text,
    clean_time,
    clean_topics,
    clean_url,
    preview,
    refuse_control_characters,
)
from stories.importer.yaml_loader import FrontMatterError, kind, read_front_matter
from stories.languages import UNKNOWN_LANGUAGE, clean_language, detect_language

MAX_FILE_BYTES = 1024 * 1024  # real documents are about 12 KB
MAX_RELATED = 1000  # real documents hold at most 30; Coverage.position is a small integer


class DocumentError(Exception):
    """A document, or one item of it, breaks a rule of the format."""

    def __init__(self, path, field, problem):
        self.path = display_path(path)
        self.field = field
        self.problem = problem
        super().__init__(str(self))

    def __reduce__(self):
        # Parsing workers send it back pickled; the default would call __init__ with the message alone,
        # fail in the pool's result thread and leave the import waiting forever.
        return type(self), (self.path, self.field, self.problem)

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
    language: str = UNKNOWN_LANGUAGE  # a code such as "en", or "unknown" (language.py)

    def __reduce__(self):
        return _by_position, (ArticleData, _values(self))


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

    def __reduce__(self):
        return _by_position, (StoryData, _values(self))


# Parsing workers send every document back pickled. A slots dataclass pickles through a
# __setstate__ in Python, field by field: its field values as one tuple unpickle about
# three times faster (0.27 against 0.09 ms per benchmark document, in this process, the writer).
def _values(instance):
    return tuple(getattr(instance, name) for name in instance.__slots__)


def _by_position(cls, values):
    return cls(*values)


def content_hash(raw):
    """The key under which a file's exact bytes are remembered as imported (ImportedDocument)."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def read_document(path, raw=None):
    """Read, parse and validate one file. Raises DocumentError."""
    path = Path(path)
    if raw is None:
        raw = read_bytes(path)
    data = parse_front_matter(path, raw)
    return validate_document(path, data, content_hash(raw))


def read_bytes(path):
    """A regular file's bytes, refused by size before reading. Raises DocumentError."""
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


def parse_front_matter(path, raw):
    """The front matter's fields (a dict) from a document's bytes. Raises DocumentError."""
    try:
        return read_front_matter(raw)
    except FrontMatterError as exc:
        raise DocumentError(path, None, exc.problem) from None


def clean_article(item, where, warnings):
    """One article (the lead, or a related item) from its mapping."""
    if not isinstance(item, dict):
        raise InvalidFieldError(where.rstrip(".") or "document", f"must be a mapping, not {kind(item)}")
    title = clean_text(item, "title", where, required=True, max_length=MAX_TITLE)
    web_url = clean_url(item.get("webUrl"), f"{where}webUrl", required=True)
    published_at = clean_time(item.get("publishedDateTime"), f"{where}publishedDateTime")
    provider = item.get("provider")
    if provider is None:
        raise InvalidFieldError(f"{where}provider", "is missing")
    if not isinstance(provider, dict):
        raise InvalidFieldError(f"{where}provider", f"must be a mapping with a name, not {kind(provider)}")
    provider_name = clean_text(provider, "name", f"{where}provider.", required=True, label=True)
    raw_domain = provider.get("domain")
    if raw_domain is None or raw_domain == "":
        domain = clean_domain(urlsplit(web_url).hostname or "", f"{where}webUrl")
    else:
        domain = clean_domain(raw_domain, f"{where}provider.domain")
    article_type = clean_text(item, "type", where, max_length=MAX_TYPE, label=True) or "article"
    excerpt = clean_text(item, "excerpt", where, max_length=MAX_EXCERPT, multiline=True)
    language = None
    if item.get("language") is not None:
        language = clean_language(item["language"])
        if language is None:
            shown = preview(str(item["language"]))
            warnings.append(f"{where}language: {shown} is not a language tag; detected instead")
    return ArticleData(
        title=title,
        web_url=web_url,
        published_at=published_at,
        provider_name=provider_name,
        provider_domain=domain,
        excerpt=excerpt,
        amp_url=clean_url(item.get("ampWebUrl"), f"{where}ampWebUrl"),
        cdn_amp_url=clean_url(item.get("cdnAmpWebUrl"), f"{where}cdnAmpWebUrl"),
        type=article_type.lower(),
        quality=clean_integer(item, "quality", where, default=0, minimum=0),
        heat=clean_integer(item, "heat", where, default=-1, minimum=-1),
        images=clean_images(item.get("images"), f"{where}images", warnings),
        language=language or detect_language(title, excerpt),
    )


def validate_document(path, data, digest):
    """A StoryData from the front matter's fields. Raises DocumentError for the first broken field of the
    document or its lead; a broken related item is dropped with a warning instead."""
    warnings = []
    try:
        lead = clean_article(data, "", warnings)
        published = data.get("published")
        if published is None:
            published = True  # absent means published, as in Jekyll
        elif not isinstance(published, bool):
            raise InvalidFieldError("published", f"must be true or false, not {kind(published)}")
        secured = data.get("secured")
        if secured is not None and not isinstance(secured, str):
            raise InvalidFieldError("secured", f"must be text, not {kind(secured)}")
        if secured:
            refuse_control_characters(secured, "secured")
        topics = clean_topics(data.get("topics"))
        category = clean_text(data, "category", "", max_length=MAX_SHORT, label=True).lower()
        related_raw = data.get("related")
        if related_raw is not None and not isinstance(related_raw, list):
            raise InvalidFieldError("related", f"must be a list, not {kind(related_raw)}")
        if related_raw and len(related_raw) > MAX_RELATED:
            raise InvalidFieldError("related", f"has {len(related_raw):,} items, over the {MAX_RELATED:,} limit")
    except InvalidFieldError as exc:
        raise DocumentError(path, exc.field, exc.problem) from None

    related, seen = [], {lead.web_url}
    for index, item in enumerate(related_raw or []):
        where = f"related[{index}]"
        try:
            article = clean_article(item, f"{where}.", warnings)
        except InvalidFieldError as exc:
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
