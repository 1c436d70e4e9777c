"""Raw bulk statements for the writer's hot path: one ``executemany`` per table and batch.

The ORM's ``bulk_create`` builds a model instance and prepares every field of
every row in Python; for the articles and coverage rows of an import that costs
several times what the database spends. These statements are built once from
the models' metadata (table and column names are never spelled out by hand) and
run with ``executemany``, which still counts as one query per batch.

Both SQLite and PostgreSQL take ``INSERT ... ON CONFLICT (...) DO UPDATE SET
col = excluded.col``. Values are adapted the way Django would store them
(datetimes through the backend's adapter, JSON as text, cast to jsonb on
PostgreSQL).
"""

import json
from datetime import UTC
from functools import cache

from django.db import connection

from stories.models import Article, Coverage, ImportedDocument, Story
from stories.search import PG_SEARCH_CONFIG

ARTICLE_COLUMNS = [
    "title",
    "excerpt",
    "published_at",
    "web_url",
    "amp_url",
    "cdn_amp_url",
    "type",
    "quality",
    "heat",
    "provider",
    "images",
    "language",
]
STORY_COLUMNS = [
    "lead",
    "slug",
    "category",
    "heat",
    "quality",
    "published",
    "published_at",
    "secured",
    "source_file",
    "coverage_count",
    "outlet_count",
    "outlets_preview",
    "image",
    "search_text",
    "search_grams",
    "search_runs",
    "search_vector",
    "created_at",
    "updated_at",
]
# What an update of an existing story leaves alone: its identity and birth date.
STORY_KEEP = {"lead", "created_at"}
JSON_FIELDS = {"images", "outlets_preview", "image"}


def _column(model, name):
    return model._meta.get_field(name).column


def _placeholder(name):
    if connection.vendor == "postgresql":
        if name in JSON_FIELDS:
            return "%s::jsonb"
        if name == "search_vector":
            return f"to_tsvector('{PG_SEARCH_CONFIG}'::regconfig, %s)"
    return "%s"


@cache
def _upsert_sql(vendor, model, fields, conflict, keep):
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(_column(model, name)) for name in fields)
    values = ", ".join(_placeholder(name) for name in fields)
    conflict_column = connection.ops.quote_name(_column(model, conflict))
    quoted = [connection.ops.quote_name(_column(model, name)) for name in fields if name not in keep | {conflict}]
    updates = ", ".join(f"{column} = excluded.{column}" for column in quoted)
    # Names come from the models' metadata, values go as parameters: nothing from the data is spliced in.
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"  # nosec B608
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({conflict_column}) {action}"  # noqa: S608  # nosec B608


def _datetime(value):
    """What Django stores for an aware datetime: on SQLite the naive UTC text, elsewhere the value itself."""
    if connection.vendor == "sqlite":
        return _sqlite_datetime(value)
    return value


def _sqlite_datetime(value):
    if value.utcoffset():  # the importer's times are UTC already
        value = value.astimezone(UTC)
    return str(value.replace(tzinfo=None))


_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one encoder, not one per value


def _json(value):
    if value is None:
        return None
    return "[]" if value == [] else _encode_json(value)


def upsert_articles(rows):
    """rows: (title, excerpt, published_at, web_url, amp_url, cdn_amp_url, type, quality, heat, provider_id, images,
    language)."""
    sql = _upsert_sql(connection.vendor, Article, tuple(ARTICLE_COLUMNS), "web_url", frozenset())
    to_text = _datetime if connection.vendor != "sqlite" else _sqlite_datetime
    params = [(*row[:2], to_text(row[2]), *row[3:10], _json(row[10]), row[11]) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def upsert_stories(rows):
    """rows: dicts keyed by STORY_COLUMNS (lead as the lead article's id)."""
    sql = _upsert_sql(connection.vendor, Story, tuple(STORY_COLUMNS), "lead", frozenset(STORY_KEEP))
    on_postgresql = connection.vendor == "postgresql"
    params = []
    for row in rows:
        values = []
        for name in STORY_COLUMNS:
            value = row[name]
            if name in JSON_FIELDS:
                value = _json(value)
            elif name in ("published_at", "created_at", "updated_at"):
                value = _datetime(value)
            elif name == "search_vector":
                value = row["search_text"] if on_postgresql else None
            values.append(value)
        params.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def insert_coverage(rows):
    """rows: (story_id, article_id, position, hidden)."""
    _insert(Coverage, ("story", "article", "position", "hidden"), rows)


def insert_story_topics(rows):
    """rows: (story_id, topic_id)."""
    _insert(Story.topics.through, ("story", "topic"), rows)


def insert_documents(rows):
    """rows: (content_hash, story_id, source_file, imported_at); a hash already there is left alone."""
    sql = _upsert_sql(
        connection.vendor, ImportedDocument, ("content_hash", "story", "source_file", "imported_at"), "content_hash",
        frozenset({"story", "source_file", "imported_at"}),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(h, s, f, _datetime(t)) for h, s, f, t in rows])


def _insert(model, fields, rows):
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(_column(model, name)) for name in fields)
    # Names from the models' metadata, values as parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def pairs_by_key(model, key, value, keys, filler):
    """{key: value} for the rows of ``model`` whose ``key`` column is in ``keys``: one raw SELECT.

    The ORM would prepare each of a batch's thousands of lookup values in Python;
    here they go straight to the driver, padded (``padded()``) to a few list lengths.
    """
    keys = padded(keys, filler)
    if not keys:
        return {}
    quote = connection.ops.quote_name
    key_column, value_column = quote(_column(model, key)), quote(_column(model, value))
    table = quote(model._meta.db_table)
    # Names from the models' metadata, values as parameters.
    sql = f"SELECT {key_column}, {value_column} FROM {table} WHERE {key_column} IN ({', '.join(['%s'] * len(keys))})"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, keys)
        return dict(cursor.fetchall())


def articles_by_url(urls):
    """{web_url: (id, hidden everywhere)} for the articles at ``urls``: one raw SELECT, like ``pairs_by_key``.

    Whether an editor hid the article (``Article.hidden_at``) comes with its id, so the
    writer keeps takedowns without a query of its own.
    """
    urls = padded(urls, no_text)
    if not urls:
        return {}
    quote = connection.ops.quote_name
    url, pk, hidden = (quote(_column(Article, name)) for name in ("web_url", "id", "hidden_at"))
    table = quote(Article._meta.db_table)
    # Names from the models' metadata, values as parameters.
    sql = f"SELECT {url}, {pk}, {hidden} IS NOT NULL FROM {table} WHERE {url} IN ({', '.join(['%s'] * len(urls))})"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, urls)
        return {row[0]: (row[1], bool(row[2])) for row in cursor.fetchall()}


def padded(values, filler):
    """``values`` made up to a power-of-two length with ``filler(i)``, values that match no row.

    A lookup ``IN (...)`` of a batch's URLs or ids has as many placeholders as
    values; SQLite's statement cache (and PostgreSQL's plan cache) would keep one
    large prepared statement per length, and memory would grow through a long
    import. Padded, a run uses a handful of statement texts. (Django removes
    repeated values from an IN list, hence distinct fillers.)
    """
    values = list(values)
    if len(values) < 2:
        return values
    size = 1 << (len(values) - 1).bit_length()
    return values + [filler(i) for i in range(size - len(values))]


def no_id(i):
    return -1 - i  # ids are positive


def no_text(i):
    return f"-padding-{i}"  # not a URL, a hash or a slug
