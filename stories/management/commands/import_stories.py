import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from stories.counts import refresh_counts
from stories.importer import import_paths
from stories.signals import content_changed


class Command(BaseCommand):
    help = (
        "Import seed documents (files, or folders searched recursively for *.txt and *.md). "
        "Prints one line per problem and a summary; exits 1 when any document failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--dry-run", action="store_true", help="Validate every document; write nothing.")
        parser.add_argument("--jobs", type=int, default=1, help="Parse on this many processes (default 1).")
        parser.add_argument("--batch-size", type=int, default=200, help="Documents per write transaction.")

    def handle(self, *args, paths, dry_run, jobs, batch_size, verbosity, **options):
        if jobs < 1 or batch_size < 1:
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
            on_error=lambda line: self.stderr.write(line),
            on_warning=(lambda line: self.stderr.write(f"warning: {line}")) if verbosity > 0 else None,
            on_progress=progress,
        )
        if show_progress:
            self.stderr.write("")
        counts_failed = False
        if not dry_run:
            # Every run recounts, even when no file changed: a run that ended after its last
            # commit and before this point (killed, a lock) left counts that a re-run repairs.
            # The recount writes only the counts that differ, so an unchanged re-run writes nothing.
            recounted = None
            try:
                recounted = refresh_counts()
            except DatabaseError as exc:
                counts_failed = True
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                done = "the stories are imported; " if report.written else ""
                self.stderr.write(
                    f"refreshing counts: database: {detail}; {done}run the command again "
                    "(it recounts every topic and outlet even when no file changed)"
                )
            if report.written or counts_failed or recounted.changed:  # a failed recount may have written some
                content_changed.send(sender=self.__class__)
            if recounted is not None and verbosity > 1:
                self.stdout.write(f"counts: {recounted.topics} topics and {recounted.providers} outlets corrected")
        if verbosity > 0 or report.failed or counts_failed:
            self.stdout.write(report.summary(dry_run=dry_run))
        if report.failed or counts_failed:
            sys.exit(1)
