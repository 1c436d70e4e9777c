"""Walk paths, skip what was already imported, parse, write in batches, count, recount.

Files stream through in batches of ``batch_size``: memory stays flat however
many there are. A file whose exact bytes were imported before is counted
unchanged without being parsed. With ``jobs`` > 1, parsing runs in worker
processes while this process writes. By default (``jobs=None``) there is one
worker per CPU this process may use (at most ``MAX_AUTO_JOBS``), started only
once ``MIN_PARALLEL`` documents have turned up to parse: a small run, or a
re-import where little changed, stays in this process, where starting workers
would cost more than they save.

``import_paths`` is the whole job: after the files it recounts the stored
per-topic and per-outlet counts and tells the caches (``content_changed``), so
whoever calls it (the ``import_stories`` command, the benchmark) cannot leave
either out.
"""

import multiprocessing
import os
from collections import deque
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from django.db import DatabaseError, reset_queries
from django.utils import timezone

from stories.counts import Recounted, refresh_counts
from stories.importer.documents import (
    DocumentError,
    content_hash,
    display_path,
    parse_front_matter,
    read_bytes,
    validate_document,
)
from stories.importer.sql import no_text, pairs_by_key
from stories.importer.writer import BatchWriter
from stories.languages import detect_language
from stories.signals import content_changed

SUFFIXES = {".txt", ".md"}
BATCH_SIZE = 200
# The default's limits (measured: docs/benchmarks.md). Past a few workers this process,
# the one writer, is what limits the speed; below MIN_PARALLEL documents to parse,
# forking workers (and their first parse) costs more than it saves.
MAX_AUTO_JOBS = 4
MIN_PARALLEL = 100
# Batches handed to the workers beyond the one being written: with one, a worker that finished
# it waited, its CPU idle, for this process to read and hand over the next.
BATCHES_AHEAD = 2


def default_jobs():
    """Parsing processes for the default run: the CPUs this process may use, at most MAX_AUTO_JOBS."""
    try:
        cpus = len(os.sched_getaffinity(0))  # a container's or taskset's limit, not the machine's
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_AUTO_JOBS))


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0  # documents
    drafts_published: int = 0  # stored drafts of unchanged documents that publish_drafts published
    workers: int = 0  # processes that parsed in parallel (0: this process parsed every document)
    recounted: Recounted | None = None  # what the recount after the files corrected (None: no recount)
    counts_error: str = ""  # the database's one-line answer when that recount failed

    @property
    def seen(self):
        return self.created + self.updated + self.unchanged + self.failed

    @property
    def written(self):
        return self.created + self.updated

    def summary(self, dry_run=False):
        if dry_run:
            return f"dry run: {self.created} valid, {self.unchanged} unchanged, {self.failed} failed; nothing written"
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, failed {self.failed}"


def iter_files(paths, on_error):
    """Files named, and *.txt/*.md files under folders named, in a stable order."""
    for path in map(Path, paths):
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in SUFFIXES and not name.startswith("."):
                        yield Path(root) / name
        elif path.is_file():
            yield path
        else:
            on_error(f"{display_path(path)}: no such file or folder")


def _read(path):
    """(path, hash, raw bytes or DocumentError)."""
    try:
        raw = read_bytes(path)
    except DocumentError as exc:
        return path, None, exc
    return path, content_hash(raw), raw


def _parse(item):
    """(path, hash, StoryData or DocumentError); runs in a worker process with ``jobs``."""
    path, digest, raw = item
    if isinstance(raw, DocumentError):
        return item
    try:
        return path, digest, validate_document(path, parse_front_matter(path, raw), digest)
    except DocumentError as exc:
        return path, digest, exc
    except Exception as exc:  # a bug in validation: one line for this file, not the end of the run
        return path, digest, DocumentError(path, None, f"cannot be read ({type(exc).__name__}: {exc})")


def import_paths(
    paths,
    *,
    dry_run=False,
    jobs=None,
    batch_size=BATCH_SIZE,
    publish_drafts=False,
    on_error=print,
    on_warning=None,
    on_progress=None,
):
    """Import every document under ``paths``, then recount and tell the caches. Returns an ImportReport.

    ``jobs``: None for the default (``default_jobs()`` workers once ``MIN_PARALLEL``
    documents are to be parsed), 1 for this process only, N for N workers from the start.
    ``publish_drafts`` imports documents marked ``published: false`` as published (the
    bundled demo's drafts), including stories of unchanged documents still drafts;
    an editor's decision (``Story.editor_decided_at``) still wins.
    ``on_error(line)`` and ``on_warning(line)`` receive one line each, naming
    the file; ``on_progress(report)`` is called after each batch. A dry run
    writes nothing, counts included. A recount that fails is not raised: the
    report says so (``counts_error``), after the documents it did import.
    """
    report = ImportReport()
    _import_files(report, paths, dry_run, jobs, batch_size, publish_drafts, on_error, on_warning, on_progress)
    if not dry_run:
        _recount(report)
        # After a failed recount too: it may have written some counts before failing.
        if report.written or report.drafts_published or report.counts_error or report.recounted.changed:
            content_changed.send(sender=ImportReport)
    return report


def _recount(report):
    """Recount every topic and outlet; record what changed, or the database's error.

    Every run recounts, even when no file changed: a run that ended after its last
    commit and before this point (killed, a lock) left counts that a re-run repairs.
    The recount writes only the counts that differ, so an unchanged re-run writes nothing.
    """
    try:
        report.recounted = refresh_counts()
    except DatabaseError as exc:
        detail = str(exc).strip()
        report.counts_error = detail.splitlines()[0] if detail else repr(exc)


def _publish_stored_drafts(story_ids):
    """Publish the drafts among ``story_ids`` that no editor decided on; returns how many."""
    from stories.models import Story

    return Story.objects.filter(id__in=story_ids, published=False, editor_decided_at__isnull=True).update(
        published=True, updated_at=timezone.now()
    )


def _import_files(report, paths, dry_run, jobs, batch_size, publish_drafts, on_error, on_warning, on_progress):
    """Parse and write the documents under ``paths``, counting them in ``report``."""
    from stories.models import ImportedDocument

    writer = BatchWriter()

    def fail(line):
        report.failed += 1
        on_error(line)

    def prepare(batch, in_flight):
        """Split a batch read from disk: what to parse, and twins of files being parsed.

        ``in_flight`` holds the twins maps of the batches still being parsed (with
        ``jobs``), oldest first: a file with the same bytes as one of theirs joins
        it, so it counts as its twin instead of being written twice.
        """
        hashes = [digest for _, digest, _ in batch if digest]
        # hash -> story: with publish_drafts, an unchanged document's story may still be its draft.
        known = pairs_by_key(ImportedDocument, "content_hash", "story", hashes, no_text)
        if publish_drafts and known and not dry_run:
            report.drafts_published += _publish_stored_drafts(set(known.values()))
        # A file with the same bytes as an earlier one of the batch is that
        # file's twin: unchanged if it was written, failed if it failed.
        to_parse, twins = [], {}
        for item in batch:
            path, digest, _ = item
            parsing = next((twins for twins in in_flight if digest in twins), None)  # a batch with its twin
            if digest in known:
                report.unchanged += 1
            elif parsing is not None:
                parsing[digest].append(path)
            elif digest is not None and digest in twins:
                twins[digest].append(path)
            else:
                if digest is not None:
                    twins[digest] = []
                to_parse.append(item)
        return to_parse, twins

    def finish(parsed, twins):
        """Report what failed to parse, write the rest, count."""
        docs = []
        for _, digest, result in parsed:
            if isinstance(result, DocumentError):
                fail(str(result))
                for path in twins.pop(digest, ()):
                    fail(str(DocumentError(path, result.field, result.problem)))
                continue
            if on_warning:
                for warning in result.warnings:
                    on_warning(f"{result.source_file}: {warning}")
            if publish_drafts:
                result.published = True  # the writer still keeps an editor's decision
            docs.append(result)
        if dry_run:
            report.created += len(docs)
        elif docs:
            for outcome in writer.write(docs):
                if outcome.status == "failed":
                    fail(outcome.message)
                    for path in twins.pop(outcome.doc.content_hash, ()):
                        fail(f"{display_path(path)}: same content as {outcome.doc.source_file}, which failed")
                else:
                    setattr(report, outcome.status, getattr(report, outcome.status) + 1)
        report.unchanged += sum(len(paths) for paths in twins.values())
        reset_queries()  # with DEBUG on, Django keeps every query's text: memory would grow with the run
        if on_progress:
            on_progress(report)

    files = iter_files(paths, fail)
    # Explicit jobs start their workers at once; the default waits for MIN_PARALLEL documents to parse.
    threshold = 0 if jobs is not None else MIN_PARALLEL
    jobs = default_jobs() if jobs is None else jobs
    pool = None
    pending = deque()  # (AsyncResult, twins) of the batches the workers are parsing, oldest first
    to_parse_seen = 0
    try:
        while batch := [_read(path) for path in islice(files, batch_size)]:
            to_parse, twins = prepare(batch, [twins for _, twins in pending])
            to_parse_seen += len(to_parse)
            if pool is None and jobs > 1 and to_parse_seen >= max(threshold, 1):
                pool = _start_workers(jobs)
                report.workers = jobs
            if pool is None:
                finish(map(_parse, to_parse), twins)
                continue
            chunksize = max(1, len(to_parse) // (jobs * 4))
            pending.append((pool.map_async(_parse, to_parse, chunksize=chunksize), twins))
            # The workers parse the batches ahead while this process writes the oldest.
            if len(pending) > BATCHES_AHEAD:
                parsed, parsed_twins = pending.popleft()
                finish(parsed.get(), parsed_twins)
        while pending:
            parsed, parsed_twins = pending.popleft()
            finish(parsed.get(), parsed_twins)
    finally:
        if pool is not None:
            pool.terminate()  # as the pool's context manager did: nothing is left to parse, or a write failed
            pool.join()


def _start_workers(jobs):
    # The language model loads here once, before the fork, rather than in every worker.
    detect_language("warm up")
    return multiprocessing.get_context("fork").Pool(jobs)
