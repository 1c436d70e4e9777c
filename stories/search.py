"""Story search: ``search_stories(queryset, query)`` behind ``StoryQuerySet.search()``.

The words of the query are matched against ``Story.search_text`` (the headlines
and excerpts of the lead and its coverage), stemmed, all words required:

- PostgreSQL: full-text search (``SearchQuery`` in websearch syntax: "quoted
  phrases", ``-word`` to exclude, ``or``) over the stored ``search_vector``
  with its GIN index; results ranked by ``SearchRank``, then newest first.
- SQLite: the FTS5 index of migration 0004 (Porter stemming, every word
  required); results newest first. A simpler fallback than PostgreSQL's: no
  ranking, no phrase or exclusion syntax.

Both annotate ``search_rank`` (an integer: keyset pagination needs exact
values). ``results_are_ranked()`` says whether the ranks differ (PostgreSQL) and
``result_keys()`` gives the order a results page uses, so no page needs to ask
which database is in use.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, IntegerField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from stories.pagination import NEWEST, Key

MAX_QUERY_LENGTH = 200  # characters of the query that are read
MAX_WORDS = 8  # words that are matched
SEARCH_KEYS = (Key("search_rank"), *NEWEST)


def results_are_ranked():
    """Whether ``search_stories()`` ranks its results by relevance: PostgreSQL does; elsewhere every rank is 0."""
    return connection.vendor == "postgresql"


def result_keys():
    """The keyset order of a results page: by rank, then newest first, where results are ranked.

    Without ranks, newest first alone: the index order serves, with no sort of every match.
    """
    return SEARCH_KEYS if results_are_ranked() else NEWEST


def search_words(query):
    """The words of ``query`` that a search uses, lower-cased, without repeats, in order."""
    words = []
    for word in (query or "")[:MAX_QUERY_LENGTH].lower().split():
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def search_stories(queryset, query):
    """Stories of ``queryset`` matching ``query``, annotated with ``search_rank``; none for an empty query."""
    words = search_words(query)
    if not words:
        return queryset.none()
    if connection.vendor == "postgresql":
        search = SearchQuery(" ".join(words), search_type="websearch", config="english")
        rank = Cast(SearchRank(F("search_vector"), search) * 1_000_000, IntegerField())
        return queryset.filter(search_vector=search).annotate(search_rank=rank)
    if connection.vendor == "sqlite":
        match = fts5_query(words)
        if not match:
            return queryset.none()
        in_index = RawSQL("SELECT rowid FROM stories_story_fts WHERE stories_story_fts MATCH %s", [match])
        return queryset.filter(pk__in=in_index).annotate(search_rank=Value(0, IntegerField()))
    for word in words:  # any other database: a plain scan
        queryset = queryset.filter(search_text__icontains=word)
    return queryset.annotate(search_rank=Value(0, IntegerField()))


def index_stories(queryset):
    """Recompute the PostgreSQL search vector of these stories from their search_text.

    The importer fills it as it writes; this is for stories written otherwise
    (tests, a shell). SQLite's FTS5 index follows by itself (triggers).
    """
    if connection.vendor == "postgresql":
        queryset.update(search_vector=SearchVector("search_text", config="english"))


def fts5_query(words):
    """Each word as an FTS5 string (quotes doubled), so no word is read as FTS5 syntax; all required."""
    terms = []
    for word in words:
        cleaned = "".join(ch for ch in word if ch.isalnum() or ch in "'-_.")
        if any(ch.isalnum() for ch in cleaned):
            terms.append('"' + cleaned.replace('"', '""') + '"')
    return " ".join(terms)
