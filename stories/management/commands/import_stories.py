"""``manage.py import_stories PATH...``: options in, lines out; ``import_paths`` does the work.

The import, the recount of the stored counts and the signal to the caches all
happen in ``stories.importer.runner.import_paths``; this command only parses the
options and prints what the report says.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from stories.importer import import_paths
from stories.importer.runner import MAX_AUTO_JOBS, MIN_PARALLEL


class Command(BaseCommand):
    help = (
        "Import seed documents (files, or folders searched recursively for *.txt and *.md). "
        "Prints one line per problem and a summary; exits 1 when any document failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--dry-run", action="store_true", help="Validate every document; write nothing.")
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help=(
                f"Parse on this many processes while this one writes (default: one per CPU this process may use, "
                f"at most {MAX_AUTO_JOBS}, once {MIN_PARALLEL} documents are to be parsed; 1: this process only)."
            ),
        )
        parser.add_argument("--batch-size", type=int, default=200, help="Documents per write transaction.")
        parser.add_argument(
            "--publish-drafts",
            action="store_true",
            help=(
                "Publish the documents' drafts (published: false), for the bundled demo; "
                "never changes a story an editor published or unpublished."
            ),
        )

    def handle(self, *args, paths, dry_run, jobs, batch_size, publish_drafts, verbosity, **options):
        if (jobs is not None and jobs < 1) or batch_size < 1:
            raise CommandError("--jobs and --batch-size must be 1 or more")
        show_progress = verbosity > 0 and sys.stderr.isatty()
        started = time.monotonic()

        def progress(report):
            if show_progress:
                rate = report.seen / max(time.monotonic() - started, 1e-6)
                self.stderr.write(f"\r{report.seen:,} documents, {rate:,.0f}/s", ending="")

        report = import_paths(
            paths,
            dry_run=dry_run,
            jobs=jobs,
            batch_size=batch_size,
            publish_drafts=publish_drafts,
            on_error=lambda line: self.stderr.write(line),
            on_warning=(lambda line: self.stderr.write(f"warning: {line}")) if verbosity > 0 else None,
            on_progress=progress,
        )
        if show_progress:
            self.stderr.write("")
        if report.counts_error:
            done = "the stories are imported; " if report.written else ""
            self.stderr.write(
                f"refreshing counts: database: {report.counts_error}; {done}run the command again "
                "(it recounts every topic and outlet even when no file changed)"
            )
        if verbosity > 1:
            where = f"{report.workers} worker processes" if report.workers else "this process"
            self.stdout.write(f"parsed in {where}")
        if report.drafts_published and verbosity > 0:
            self.stdout.write(f"published {report.drafts_published} stored drafts (of unchanged documents)")
        if report.recounted is not None and verbosity > 1:
            recounted = report.recounted
            self.stdout.write(f"counts: {recounted.topics} topics and {recounted.providers} outlets corrected")
        failed = report.failed or report.counts_error
        if verbosity > 0 or failed:
            self.stdout.write(report.summary(dry_run=dry_run))
        if failed:
            sys.exit(1)
