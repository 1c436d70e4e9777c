"""Coverage takedown: an editor hides one coverage item from one story, or an article everywhere.

A legal request, a dead or a wrong link: the story stays, the item goes. Every
operation here does every step, as ``stories.publishing.set_published`` does:

1. locks the stories concerned, so an import or another editor waits;
2. records the decision where no import writes: ``CoverageTakedown`` (one story)
   or ``Article.hidden_at`` (everywhere), and copies it onto the coverage rows
   (``Coverage.hidden``, what every page, feed and count filters on);
3. computes the stories' derived fields again without the hidden items (counts,
   the outlets on the card, the picture and its credit, the search text) and
   recounts the outlets and topics they touch;
4. once the transaction commits, sends ``content_changed`` (the caches listen).

Restoring undoes steps 2 to 4. Who did it is not recorded here: the admin writes
the history entries (``LogEntry``, with the reason); a shell has no user.

An article that leads a story cannot be hidden everywhere: hiding it would leave
a story without its headline. ``TakedownRefusedError`` says so; unpublishing the story
is the editor's way there.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from stories.counts import refresh_counts
from stories.importer.derived import derived_fields
from stories.models import Article, Coverage, CoverageTakedown, Story
from stories.search import index_stories
from stories.signals import content_changed

MAX_REASON = 1000  # a reason is a sentence or two, shown in the admin's history


class TakedownRefusedError(Exception):
    """An operation an editor may not do, with the reason in words (the admin shows it)."""


@dataclass
class Takedown:
    """What an operation did: ``changed`` is False when the item already was so (nothing written)."""

    changed: bool
    stories: list = field(default_factory=list)  # the Story rows whose coverage changed
    reason: str = ""  # a hide's reason, as stored (spaces collapsed)


def hide_coverage(story, article, reason, *, now=None):
    """Hide ``article`` from ``story``'s coverage for good (re-imports keep it hidden)."""
    reason = _clean_reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        story = _lock_stories([story.pk])[0]
        if not Coverage.objects.filter(story=story, article=article).exists():
            raise TakedownRefusedError(f"“{article}” is not in the coverage of this story.")
        _, created = CoverageTakedown.objects.get_or_create(
            story=story, article=article, defaults={"reason": reason, "hidden_at": now}
        )
        if not created:
            return Takedown(False, [story])
        Coverage.objects.filter(story=story, article=article).update(hidden=True)
        _after_change([story], now)
    return Takedown(True, [story], reason)


def restore_coverage(story, article, *, now=None):
    """Show ``article`` in ``story``'s coverage again (unless it is hidden everywhere)."""
    now = now or timezone.now()
    with transaction.atomic():
        story = _lock_stories([story.pk])[0]
        deleted, _ = CoverageTakedown.objects.filter(story=story, article=article).delete()
        if not deleted:
            return Takedown(False, [story])
        article_hidden = Article.objects.filter(pk=article.pk, hidden_at__isnull=False).exists()
        Coverage.objects.filter(story=story, article=article).update(hidden=article_hidden)
        _after_change([story], now)
    return Takedown(True, [story])


def hide_article(article, reason, *, now=None):
    """Hide ``article`` from every story it covers, now and in every later import.

    Refused (``TakedownRefusedError``) when the article leads a story.
    """
    reason = _clean_reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        # The article first, then its stories: the importer's order (it upserts articles, then
        # locks stories), so the two wait for each other instead of deadlocking; and an import
        # that adds the article to a story either commits first (its story is among these) or
        # reads the article's hidden_at after this commits.
        locked = Article.objects.select_for_update().get(pk=article.pk)
        stories = _lock_stories(_covering(article))
        led = Story.objects.filter(lead=article).first()
        if led is not None:
            raise TakedownRefusedError(
                f"“{article}” is the headline article of the story “{led}”: it cannot be hidden everywhere. "
                "To take the story down, unpublish it; to hide another outlet's item, hide it from its story."
            )
        if locked.hidden_at is not None:
            return Takedown(False, stories)
        Article.objects.filter(pk=article.pk).update(hidden_at=now, hidden_reason=reason)
        Coverage.objects.filter(article=article).update(hidden=True)
        _after_change(stories, now)
    return Takedown(True, stories, reason)


def restore_article(article, *, now=None):
    """Show ``article`` again wherever it covers a story, except where it is hidden from that story alone."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)  # before its stories, as in hide_article
        stories = _lock_stories(_covering(article))
        if locked.hidden_at is None:
            return Takedown(False, stories)
        Article.objects.filter(pk=article.pk).update(hidden_at=None, hidden_reason="")
        still_hidden = CoverageTakedown.objects.filter(article=article).values("story_id")
        Coverage.objects.filter(article=article).exclude(story_id__in=still_hidden).update(hidden=False)
        _after_change(stories, now)
    return Takedown(True, stories)


def refresh_derived(story_ids, *, now=None):
    """Store the derived fields of these stories again, from their shown coverage (never the slug).

    The same ``derived_fields`` an import uses, on the rows in the database.
    """
    now = now or timezone.now()
    stories = Story.objects.filter(pk__in=story_ids).select_related("lead__provider")
    coverage = {}
    items = Coverage.objects.shown().filter(story_id__in=story_ids).select_related("article__provider")
    for item in items.order_by("story_id", "position"):
        coverage.setdefault(item.story_id, []).append(item.article)
    for story in stories:
        fields = derived_fields(story.lead, coverage.get(story.pk, []), _outlet)
        fields.pop("slug")  # its address stays as it is
        Story.objects.filter(pk=story.pk).update(**fields, updated_at=now)
    index_stories(Story.objects.filter(pk__in=story_ids))


def _after_change(stories, now):
    ids = [story.pk for story in stories]
    if not ids:
        return
    refresh_derived(ids, now=now)
    refresh_counts(ids)
    transaction.on_commit(lambda: content_changed.send(sender=Story))


def _covering(article):
    return list(Coverage.objects.filter(article=article).values_list("story_id", flat=True))


def _lock_stories(ids):
    """The stories, locked for this transaction, with ``lead.title`` (their names in the admin's history)."""
    return list(
        Story.objects.filter(pk__in=ids)
        .select_related("lead")
        .only("pk", "published", "lead__title")
        .select_for_update(of=("self",))
        .order_by("pk")
    )


def _clean_reason(reason):
    reason = " ".join((reason or "").split())
    if not reason:
        raise TakedownRefusedError("Give a reason: it is kept in the history.")
    if len(reason) > MAX_REASON:
        raise TakedownRefusedError(f"The reason is over {MAX_REASON} characters.")
    return reason


def _outlet(article):
    provider = article.provider
    return provider.domain, provider.name, provider.slug
