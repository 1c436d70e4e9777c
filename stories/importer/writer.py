"""Write validated documents (``StoryData``) to the database in batches.

A batch costs a fixed number of queries whatever its size: bulk upserts on the
unique keys (article URL, story lead, provider domain, topic slug), with
provider and topic ids cached across batches. The rows of articles, stories,
coverage and topics go through raw ``executemany`` statements (``sql.py``),
several times faster than the ORM's ``bulk_create``.

Editors' takedowns (``stories.takedown``) survive: an article hidden everywhere
and an item hidden from a story are read before the story's coverage is written
again, and its rows are inserted hidden, its derived fields (counts, picture,
search text) computed without them. A batch runs in one transaction;
if it fails, its documents are retried one per transaction so that one bad
document cannot sink the others. Either way each document is written whole or
not at all.
"""

import hashlib
import logging
import sqlite3
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from stories.importer import sql
from stories.importer.derived import derived_fields
from stories.models import Coverage, CoverageTakedown, Provider, Story, Topic

log = logging.getLogger(__name__)

RETRIES = 3  # a document is retried alone this many times (concurrent importers can collide)


@dataclass(slots=True)
class Outcome:
    doc: object  # StoryData
    status: str  # "created", "updated" or "failed"
    message: str = ""
    story_id: int | None = None


class BatchWriter:
    def __init__(self):
        self._provider_ids = {}  # domain -> (id, slug)
        self._topic_ids = {}  # slug -> id

    def write(self, docs):
        """Write documents; returns one Outcome per document, in order."""
        outcomes = []
        for group in _groups_without_repeated_leads(docs):
            outcomes.extend(self._write_group(group))
        return outcomes

    def _write_group(self, docs):
        # Any exception, not only a DatabaseError: one document that breaks the
        # writer (a value a database refuses, a bug) must not stop the others.
        try:
            return self._write_atomically(docs)
        except Exception as exc:
            if len(docs) == 1:
                return [self._retry_alone(docs[0], exc)]
            log.info("batch of %d failed (%s); writing its documents one by one", len(docs), exc)
        return [self._retry_alone(doc) for doc in docs]

    def _retry_alone(self, doc, first_error=None):
        error = first_error
        for _attempt in range(RETRIES if first_error is None else RETRIES - 1):
            if error is not None and not isinstance(error, (OperationalError, IntegrityError)):
                break  # not a collision: trying again would fail the same way
            try:
                return self._write_atomically([doc])[0]
            except Exception as exc:
                error = exc
        where = "database" if isinstance(error, DatabaseError) else f"cannot write ({type(error).__name__})"
        return Outcome(doc, "failed", f"{doc.source_file}: {where}: {_first_line(error)}")

    def _write_atomically(self, docs):
        new_providers, new_topics = {}, {}
        _use_sqlite_parameter_limit()
        with transaction.atomic():
            outcomes = self._write(docs, new_providers, new_topics)
        # Only ids that were committed may be cached.
        self._provider_ids.update(new_providers)
        self._topic_ids.update(new_topics)
        return outcomes

    def _write(self, docs, new_providers, new_topics):
        now = timezone.now()
        providers = self._provider_map(docs, new_providers)
        topics = self._topic_map(docs, new_topics)
        article_ids, hidden_articles = self._upsert_articles(docs, providers)

        lead_ids = [article_ids[doc.lead.web_url] for doc in docs]
        existing = {
            row["lead_id"]: row
            for row in Story.objects.select_for_update()
            .filter(lead_id__in=sql.padded(lead_ids, sql.no_id))
            .values("id", "lead_id", "published", "editor_decided_at")
        }
        taken_down = _takedowns([row["id"] for row in existing.values()])

        def hidden(story_id, article_id):
            return article_id in hidden_articles or (story_id, article_id) in taken_down

        sql.upsert_stories([self._story(doc, article_ids, providers, existing, hidden, now) for doc in docs])
        story_ids = sql.pairs_by_key(Story, "lead", "id", lead_ids, sql.no_id)

        updated_ids = [row["id"] for row in existing.values()]
        if updated_ids:
            updated_ids = sql.padded(updated_ids, sql.no_id)
            Coverage.objects.filter(story_id__in=updated_ids).delete()
            Story.topics.through.objects.filter(story_id__in=updated_ids).delete()
        coverage, story_topics, documents = [], [], []
        for doc, lead_id in zip(docs, lead_ids, strict=True):
            story_id = story_ids[lead_id]
            coverage += [
                (story_id, article_ids[item.web_url], position, hidden(story_id, article_ids[item.web_url]))
                for position, item in enumerate(doc.related)
            ]
            story_topics += [(story_id, topics[slug]) for slug, _ in doc.topics]
            documents.append((doc.content_hash, story_id, doc.source_file[-500:], now))
        sql.insert_coverage(coverage)
        sql.insert_story_topics(story_topics)
        sql.insert_documents(documents)
        return [
            Outcome(doc, "updated" if lead_id in existing else "created", story_id=story_ids[lead_id])
            for doc, lead_id in zip(docs, lead_ids, strict=True)
        ]

    # --- pieces -------------------------------------------------------------

    def _provider_map(self, docs, new_providers):
        """domain -> (id, slug) for every outlet in the batch, creating the new ones."""
        names = {}
        for doc in docs:
            for article in (doc.lead, *doc.related):
                names.setdefault(article.provider_domain, article.provider_name)
        found = {domain: self._provider_ids[domain] for domain in names if domain in self._provider_ids}
        missing = [domain for domain in names if domain not in found]
        if missing:
            found.update(_providers_by_domain(missing))
            to_create = [domain for domain in missing if domain not in found]
            if to_create:
                slugs = _unique_slugs(to_create)
                Provider.objects.bulk_create(
                    [Provider(domain=d, name=names[d], slug=slugs[d]) for d in to_create], ignore_conflicts=True
                )
                created = _providers_by_domain(to_create)
                found.update(created)
                lost = [d for d in to_create if d not in created]
                if lost:  # a slug taken by an outlet created meanwhile: make it unique by hash
                    Provider.objects.bulk_create(
                        [Provider(domain=d, name=names[d], slug=f"{slugs[d][:240]}-{_short_hash(d)}") for d in lost],
                        ignore_conflicts=True,
                    )
                    found.update(_providers_by_domain(lost))
            new_providers.update({domain: found[domain] for domain in missing})
        return found

    def _topic_map(self, docs, new_topics):
        names = {}
        for doc in docs:
            for slug, name in doc.topics:
                names.setdefault(slug, name)
        found = {slug: self._topic_ids[slug] for slug in names if slug in self._topic_ids}
        missing = [slug for slug in names if slug not in found]
        if missing:
            Topic.objects.bulk_create([Topic(slug=slug, name=names[slug]) for slug in missing], ignore_conflicts=True)
            fresh = dict(Topic.objects.filter(slug__in=missing).values_list("slug", "id"))
            found.update(fresh)
            new_topics.update(fresh)
        return found

    def _upsert_articles(self, docs, providers):
        articles = {}
        for doc in docs:
            for item in (*doc.related, doc.lead):  # the lead's own data wins within a document
                articles[item.web_url] = (
                    item.title,
                    item.excerpt,
                    item.published_at,
                    item.web_url,
                    item.amp_url,
                    item.cdn_amp_url,
                    item.type,
                    item.quality,
                    item.heat,
                    providers[item.provider_domain][0],
                    item.images,
                    item.language,
                )
        sql.upsert_articles(list(articles.values()))
        found = sql.articles_by_url(list(articles))
        return {url: pk for url, (pk, _) in found.items()}, {pk for pk, hidden in found.values() if hidden}

    def _story(self, doc, article_ids, providers, existing, hidden, now):
        lead_id = article_ids[doc.lead.web_url]
        row = existing.get(lead_id)
        published = doc.published
        if row is not None and row["editor_decided_at"] is not None:
            published = row["published"]  # editors win over re-imports
        elif hidden(None, lead_id):
            # An article an editor hid everywhere came back as a lead: a draft, for an editor to judge.
            published = False
        story_id = row["id"] if row is not None else None
        shown = [item for item in doc.related if not hidden(story_id, article_ids[item.web_url])]

        def outlet(article):
            return article.provider_domain, article.provider_name, providers[article.provider_domain][1]

        return dict(
            lead=article_ids[doc.lead.web_url],
            category=doc.category,
            heat=doc.heat,
            quality=doc.quality,
            published=published,
            published_at=doc.lead.published_at,
            secured=doc.secured,
            source_file=doc.source_file[-500:],
            **derived_fields(doc.lead, shown, outlet),
            search_vector=None,  # filled from search_text on PostgreSQL
            created_at=now,
            updated_at=now,
        )


def _use_sqlite_parameter_limit():
    """Let bulk statements on SQLite take as many parameters as the library does.

    Django 5.2 assumes SQLite's old limit of 999 parameters and splits a bulk
    insert of, say, 600 articles into seven statements: the number of queries
    per batch would grow with the batch. SQLite 3.32 and later allow 32,766,
    which the connection reports (what Django 6.0 reads, ticket #36143).
    """
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    if limit > connection.features.max_query_params:
        connection.features.max_query_params = limit  # this connection's features only


def _groups_without_repeated_leads(docs):
    """Split a batch so no group holds two documents of the same story (one upsert cannot touch a row twice)."""
    group, leads = [], set()
    for doc in docs:
        if doc.lead.web_url in leads:
            yield group
            group, leads = [], set()
        group.append(doc)
        leads.add(doc.lead.web_url)
    if group:
        yield group


def _takedowns(story_ids):
    """{(story id, article id)} of the items editors hid from these stories (none for new stories)."""
    if not story_ids:
        return set()
    rows = CoverageTakedown.objects.filter(story_id__in=sql.padded(story_ids, sql.no_id))
    return set(rows.values_list("story_id", "article_id"))


def _providers_by_domain(domains):
    return {
        domain: (pk, slug)
        for domain, pk, slug in Provider.objects.filter(domain__in=domains).values_list("domain", "id", "slug")
    }


def _unique_slugs(domains):
    slugs = {domain: Provider.slug_for(domain) for domain in domains}
    taken = set(Provider.objects.filter(slug__in=list(slugs.values())).values_list("slug", flat=True))
    for domain, slug in slugs.items():
        if slug in taken:
            slugs[domain] = slug = f"{slug[:240]}-{_short_hash(domain)}"
        taken.add(slug)
    return slugs


def _short_hash(text):
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
