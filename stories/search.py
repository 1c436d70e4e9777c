"""Story search: ``search_stories(queryset, query)`` behind ``StoryQuerySet.search()``.

The words of the query are matched against ``Story.search_text`` (the headlines
and excerpts of the lead and its coverage), all words required. A query is read
as two kinds of terms (``search_terms()``):

- *Words* in scripts that put spaces between words (Latin, Greek, Cyrillic...):
  accents folded, stemmed.
  - PostgreSQL: full-text search (``SearchQuery`` in websearch syntax: "quoted
    phrases", ``-word`` to exclude, ``or``) over the stored ``search_vector``
    with its GIN index; results ranked by ``SearchRank``, then newest first.
  - SQLite: the FTS5 index of migration 0004 (Porter stemming, every word
    required); results newest first. No ranking, phrase or exclusion syntax.
- *Runs* of a script written without spaces (Chinese, Japanese, Korean, Thai...):
  matched as substrings, since a word there has no spaces around it (佐々木 in
  佐々木朗希). A run of 3 characters or more is looked for among the story's
  ``search_runs`` (its runs that long, ``stories.scripts``) by trigrams (migrations
  0007 and 0013): PostgreSQL's pg_trgm GIN index serves ``LIKE '%run%'``; on SQLite an
  FTS5 ``trigram`` table serves a phrase match. A run of 1 or 2 characters makes no trigram: it is one
  of the story's ``search_grams`` (every character and pair of its runs,
  ``stories.scripts``), indexed by migration 0011: on PostgreSQL a GIN index of
  ``string_to_array(search_grams, ' ')``, on SQLite an FTS5 table where each gram
  is one token. Exact either way, over every story (docs/benchmarks.md, "Search
  in every script", has the costs).

A search reads at most the newest ``COUNT_BOUND`` (1,000) matches, so that a word in
every story costs what a rare one does (issue 17). PostgreSQL takes the newest matches
of the whole queryset (filters included: the planner walks the published-time index and
tests each story, or takes the few a rare word's GIN index finds) and ranks only those.
SQLite takes the highest ids its FTS5 indexes hold for the words (ids follow the order
stories came in), reading no further, then applies the queryset's conditions.
``search_count``/``search_more`` tell a results page when the bound was met
(``more_than_bound()``) and ``match_count_label()`` then says the page shows the newest
1,000 ("the best of the newest 1,000" where ranked).

Both annotate ``search_rank`` (an integer: keyset pagination needs exact
values). ``results_are_ranked()`` says whether the ranks differ (PostgreSQL) and
``result_keys()`` gives the order a results page uses, so no page needs to ask
which database is in use. ``snippet()`` gives each result's matching text, marked.
"""

import functools
import re
import unicodedata

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, F, Func, IntegerField, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils.html import escape
from django.utils.safestring import mark_safe

from stories.pagination import NEWEST, Key
from stories.scripts import GRAM, SPACELESS, SPACELESS_RUN

MAX_QUERY_LENGTH = 200  # characters of the query that are read
MAX_WORDS = 8  # words that are matched
SEARCH_KEYS = (Key("search_rank"), *NEWEST)
COUNT_BOUND = (
    1000  # a search reads at most this many matches, the newest; a page counts up to it, then says "more than"
)
SNIPPET_LENGTH = 240  # characters of matching text shown under a result
# PostgreSQL's text search configuration: English stemming over unaccented words (migration 0012),
# so "cafe" finds "café" as SQLite's remove_diacritics does.
PG_SEARCH_CONFIG = "english_unaccent"

LATIN_TOKEN = re.compile(rf"[^\W{SPACELESS}]+")  # letters and digits outside the spaceless scripts
# English endings a stemmer takes off, longest first: a snippet marks "recognize" for "recognizing".
COMBINING = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)  # accents, once decomposed
SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ies", "ied", "ed", "es", "ly", "s", "e", "y")


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


def search_terms(query):
    """(words, runs) of ``query``: the words for full-text search, the runs of spaceless scripts to find as they are.

    "東京 olympics 新型コロナ" gives (["olympics"], ["東京", "新型コロナ"]); a word mixing
    scripts is split ("iphone新型" gives "iphone" and "新型"). Every one of them is required.
    """
    words, runs = [], []
    for word in search_words(query):
        for run in SPACELESS_RUN.findall(word):
            if run not in runs:
                runs.append(run)
        for part in SPACELESS_RUN.sub(" ", word).split():
            if any(ch.isalnum() for ch in part) and part not in words:
                words.append(part)
    return words, runs[:MAX_WORDS]


def search_stories(queryset, query, bound=None):
    """Stories of ``queryset`` matching ``query``, at most the newest ``bound`` of them; none for an empty query.

    Reading at most ``bound`` matches, the newest first, is what keeps a common word as fast as
    a rare one: no search ranks or sorts every story. Annotated with ``search_rank`` and, for a
    results page's count (``more_than_bound()``, ``match_count_label()``):

    - ``search_count``: how many stories match, counted up to ``bound`` + 1 (one more: "more than").
    - ``search_more``: whether more than ``bound`` stories hold the words where ``search_count``
      cannot tell it. SQLite bounds the words' matches in its FTS5 indexes, before the
      queryset's own conditions (published, the filters), so it counts those among the newest
      ``bound`` only; PostgreSQL bounds after them and counts exactly.
    """
    bound = COUNT_BOUND if bound is None else bound
    words, runs = search_terms(query)
    rank = Value(0, IntegerField())
    no_more = Value(False, BooleanField())
    if not words and not runs:  # annotated still: a results page orders by the rank
        return queryset.none().annotate(search_rank=rank, search_count=Value(0, IntegerField()), search_more=no_more)
    long_runs = [run for run in runs if len(run) > GRAM]
    short_runs = [run for run in runs if len(run) <= GRAM]
    if connection.vendor == "postgresql":
        matches = queryset
        if words:
            search = SearchQuery(" ".join(words), search_type="websearch", config=PG_SEARCH_CONFIG)
            rank = Cast(SearchRank(F("search_vector"), search) * 1_000_000, IntegerField())
            matches = matches.filter(search_vector=search)
        for run in long_runs:  # LIKE, served by the pg_trgm index (spaceless scripts have no case)
            matches = matches.filter(search_runs__contains=run)
        if short_runs:  # every one a gram of the story: one containment the GIN index serves
            matches = matches.alias(search_gram_array=GramArray()).filter(search_gram_array__contains=short_runs)
        # The newest matches, then ranked: for a common word the planner walks the
        # (published, -published_at, -id) index, testing each story, and stops at the bound;
        # for a rare one it takes the few the GIN index finds.
        newest = matches.order_by("-published_at", "-id").values("pk")
        return queryset.filter(pk__in=newest[:bound]).annotate(
            search_rank=rank, search_count=_count(matches.order_by().values("pk")[: bound + 1]), search_more=no_more
        )
    if connection.vendor == "sqlite":
        # Runs of spaceless scripts first: the table walked is the first, and those stories are
        # few (one in 20 in the benchmark corpus), while a Latin word may be in every story.
        tables = []
        if long_runs:
            tables.append(("stories_story_trigram", fts5_phrases(long_runs)))
        if short_runs:
            tables.append(("stories_story_grams", fts5_phrases(short_runs)))
        if words:
            match = fts5_query(words)
            if not match:
                return queryset.none().annotate(
                    search_rank=rank, search_count=Value(0, IntegerField()), search_more=no_more
                )
            tables.append(("stories_story_fts", match))
        sql, params = fts5_newest_sql(tables)
        # Our own SQL (fts5_newest_sql), the query's terms still parameters.
        newest = RawSQL(f"{sql} LIMIT {int(bound)}", params)  # noqa: S611  # nosec
        counted = f"SELECT COUNT(*) > {int(bound)} FROM ({sql} LIMIT {int(bound) + 1})"  # noqa: S608  # nosec
        more = RawSQL(counted, params, output_field=BooleanField())  # noqa: S611  # nosec
        count = _count_among(queryset, sql, params, bound)
        # The page walks the (published, -published_at, -id) index at the candidates' times only,
        # newest first: by id alone, SQLite would walk it through every story checking each, and
        # a rare word (whose few candidates are found at once) would cost a scan. "id + 0" keeps
        # the id test off that index, which it would otherwise seek by every time and id pair.
        times = queryset.model._base_manager.filter(pk__in=newest).values("published_at")
        queryset = queryset.alias(search_id=ExpressionWrapper(F("pk") + 0, IntegerField()))
        queryset = queryset.filter(published_at__in=times, search_id__in=newest)
        return queryset.annotate(search_rank=rank, search_count=count, search_more=more)
    for term in words + runs:  # any other database: a plain scan
        queryset = queryset.filter(search_text__icontains=term)
    return queryset.annotate(
        search_rank=rank, search_count=_count(queryset.order_by().values("pk")[: bound + 1]), search_more=no_more
    )


def _count(rows):
    """``COUNT(*)`` of ``rows`` (a values("pk") queryset, unordered, sliced to bound its work) as a scalar subquery."""
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        return Value(0, IntegerField())
    # The inner SQL is Django's own compilation, its values still parameters.
    return RawSQL(f"SELECT COUNT(*) FROM ({sql}) AS matches", params, output_field=IntegerField())  # noqa: S608, S611  # nosec


def _count_among(queryset, sql, params, bound):
    """How many of the newest ``bound`` ids of ``sql`` (fts5_newest_sql) are stories of ``queryset``.

    Driven from those ids, each looked up by primary key: counted over the queryset instead,
    SQLite would walk its (published, ...) index through every story checking each against them.
    """
    each = queryset.order_by().filter(pk=RawSQL("newest_match.rowid", ())).values("pk")  # nosec B611: fixed SQL, no value
    try:
        each_sql, each_params = each.query.sql_with_params()
    except EmptyResultSet:
        return Value(0, IntegerField())
    # Our own SQL and Django's compilation, every value still a parameter.
    counted = f"SELECT COUNT(*) FROM ({sql} LIMIT {int(bound)}) AS newest_match WHERE EXISTS ({each_sql})"  # noqa: S608  # nosec
    return RawSQL(counted, [*params, *each_params], output_field=IntegerField())  # noqa: S611  # nosec


def more_than_bound(story, bound=None):
    """Whether more than ``bound`` stories match the search that found ``story`` (its annotations)."""
    bound = COUNT_BOUND if bound is None else bound
    return story.search_more or story.search_count > bound


def fts5_newest_sql(tables):
    """(sql, params): the ids of the stories every one of ``tables``' FTS5 MATCH finds, highest id first.

    ``tables`` is (table, match) pairs. Each table's rowid is the story's id, and ids follow the
    order stories came in: read newest first with a LIMIT, FTS5 stops early rather than reading
    every match of a common word. The first table is walked; each other one is asked about each
    story walked (a rowid lookup in its index), not read whole: "東京 facial" reads the
    1,300 stories with 東京 at 100,000 stories, not the 100,000 with "facial".
    """
    (first, match), *others = tables
    # Our own table names, unaliased so that EXPLAIN names them: no value of the query is in the SQL.
    sql = f"SELECT {first}.rowid FROM {first} WHERE {first} MATCH %s"  # noqa: S608  # nosec
    params = [match]
    for table, other_match in others:
        lookup = f"SELECT 1 FROM {table} WHERE {table} MATCH %s AND {table}.rowid = {first}.rowid"  # noqa: S608  # nosec B608: our table names
        sql += f" AND EXISTS ({lookup})"
        params.append(other_match)
    return sql + f" ORDER BY {first}.rowid DESC", params


class GramArray(Func):
    """``string_to_array(search_grams, ' ')``: spelled as migration 0011's index is, so PostgreSQL uses it.

    The separator is part of the template, not a parameter: the planner matches the index only
    on the same expression.
    """

    template = "string_to_array(%(expressions)s, ' ')"
    output_field = ArrayField(TextField())

    def __init__(self):
        super().__init__(F("search_grams"))


def index_stories(queryset):
    """Recompute the PostgreSQL search vector of these stories from their search_text.

    The importer fills it as it writes; this is for stories written otherwise
    (tests, a shell). SQLite's FTS5 indexes and PostgreSQL's trigram index
    follow by themselves (triggers, an index on the column).
    """
    if connection.vendor == "postgresql":
        queryset.update(search_vector=SearchVector("search_text", config=PG_SEARCH_CONFIG))


def fts5_query(words):
    """Each word as an FTS5 string (quotes doubled), so no word is read as FTS5 syntax; all required."""
    terms = []
    for word in words:
        cleaned = "".join(ch for ch in word if ch.isalnum() or ch in "'-_.")
        if any(ch.isalnum() for ch in cleaned):
            terms.append('"' + cleaned.replace('"', '""') + '"')
    return " ".join(terms)


def fts5_phrases(runs):
    """Runs as FTS5 strings, all required: on the trigram table each is a substring match, on the
    grams table a whole gram."""
    return " ".join('"' + run.replace('"', '""') + '"' for run in runs)


# --- what a results page shows -------------------------------------------------


def match_count_label(count, bound=None, *, more=False, ranked=False):
    """What a results page says of its count: "1 story matches", "12 stories match", "More than 1,000 stories match".

    ``more`` (a search's ``search_more``): more than ``bound`` stories match and the page
    shows only the newest ``bound``, ranked among themselves where ``ranked``; the label says so.
    """
    bound = COUNT_BOUND if bound is None else bound
    if more:
        newest = f"the best of the newest {bound:,}" if ranked else f"the newest {bound:,}"
        if count >= bound:
            return f"More than {bound:,} stories match: showing {newest}"
        # SQLite bounds the matches of the words, before drafts and filters leave these.
        return f"More than {bound:,} stories hold these words: showing the {count:,} among {newest}"
    if count > bound:
        return f"More than {bound:,} stories match"
    return f"{count:,} {'story matches' if count == 1 else 'stories match'}"


def fold(text):
    """Lower-cased, accents taken off: what the indexes compare."""
    if text.isascii():
        return text.lower()
    return COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


def stem(word):
    """A rough English stem, at least 3 characters long: enough to mark the words a stemmed search found."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@functools.lru_cache(maxsize=256)
def _tokens_starting_with(prefixes):
    """The Latin tokens (whole, as ``LATIN_TOKEN`` reads them) that start with one of ``prefixes``."""
    alternatives = "|".join(re.escape(prefix) for prefix in prefixes)
    return re.compile(rf"(?<![^\W{SPACELESS}])(?:{alternatives})[^\W{SPACELESS}]*")


def _spans(line, words, runs):
    """The (start, end) of each match in ``line``, and how many of the terms matched (``words`` as stems)."""
    spans, matched = [], 0
    for run in runs:
        found = [(m.start(), m.end()) for m in re.finditer(re.escape(run), line, flags=re.IGNORECASE)]
        spans += found
        matched += bool(found)
    if words:
        folded_line = fold(line)
        stems = {prefix for prefix in words if prefix in folded_line}  # most lines hold none: no tokenizing
    else:
        stems = ()
    seen = set()
    if stems and line.isascii():
        # Lower-casing keeps an ASCII line's offsets: read only the tokens that start with a stem.
        tokens, folded_tokens = _tokens_starting_with(tuple(sorted(stems))).finditer(line.lower()), True
    else:
        tokens, folded_tokens = (LATIN_TOKEN.finditer(line) if stems else ()), False
    for token in tokens:
        folded = token.group() if folded_tokens else fold(token.group())
        for prefix in stems:
            if folded.startswith(prefix) and len(folded) <= len(prefix) + 6:
                spans.append(token.span())
                seen.add(prefix)
                break
    return sorted(spans), matched + len(seen)


def snippet(search_text, query, length=SNIPPET_LENGTH):
    """The line of ``search_text`` (a headline or an excerpt) holding most of the query's terms, with them marked.

    HTML built from escaped text only: the text between the marks is escaped, the
    ``<mark>`` elements are our own. A long line is cut around its first match. ""
    when no line holds a term (a stem this rough reading misses).
    """
    words, runs = search_terms(query)
    stems = {stem(fold(part)) for word in words for part in LATIN_TOKEN.findall(word)}
    best, best_spans, best_score = None, [], 0
    for line in (search_text or "").splitlines():
        spans, score = _spans(line, stems, runs)
        if score > best_score:
            best, best_spans, best_score = line, spans, score
            if score == len(stems) + len(runs):  # every term: no later line does better
                break
    if best is None:
        return ""
    start = 0
    if len(best) > length:
        start = max(0, min(best_spans[0][0] - length // 3, len(best) - length))
    end = min(len(best), start + length)
    parts, position = ["…" if start else ""], start
    for span_start, span_end in best_spans:
        span_start, span_end = max(span_start, position), min(span_end, end)
        if span_start >= span_end:
            continue
        parts += [escape(best[position:span_start]), "<mark>", escape(best[span_start:span_end]), "</mark>"]
        position = span_end
    parts += [escape(best[position:end]), "…" if end < len(best) else ""]
    # Safe: every piece of text is escaped; the only markup is our own <mark>.
    return mark_safe("".join(parts))  # noqa: S308  # nosec
