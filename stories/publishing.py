"""Publishing and unpublishing stories: an editor's decision, applied in one place.

``set_published(stories, published)`` (or ``publish`` / ``unpublish``) does
every step, so no caller can leave one out:

1. stamps ``editor_decided_at`` on every story given, so re-imports leave its
   flag as the editor set it from now on (stories already so are stamped too:
   the editor chose them);
2. sets the flag on the stories whose flag changes;
3. recounts the stored per-topic and per-outlet counts those stories touch;
4. once the transaction commits, sends ``content_changed`` (the caches listen).

Steps 3 and 4 happen only when some flag changed. Who decided is not recorded
here: the admin writes its history entries (``LogEntry``, which needs a user and
names the button pressed) from the stories this returns; a command has no user.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from stories.counts import refresh_counts
from stories.models import Story
from stories.signals import content_changed

# Past this many changed stories one full recount beats a recount by id (and its long IN list).
RECOUNT_ALL_ABOVE = 1000
UPDATE_CHUNK = 500  # ids per UPDATE: keeps the IN list short on every database


@dataclass(frozen=True)
class Decision:
    """What ``set_published`` did: the stories whose flag changed, and those already so (only stamped)."""

    published: bool
    decided_at: datetime
    changed: list  # of Story, with ``pk``, ``published`` (as before) and ``lead.title`` loaded
    kept: list  # of Story, likewise


def set_published(stories, published, *, now=None):
    """Set the published flag of ``stories`` (a queryset); returns a ``Decision``.

    The rows are locked and read again inside the transaction, so two editors
    acting at once cannot both count the same story as changed.
    """
    now = now or timezone.now()
    with transaction.atomic(using=stories.db):
        # By subquery: whatever joins or DISTINCT the caller's filters added, lock and read plain rows.
        selected = list(
            Story.objects.filter(pk__in=stories.order_by().values("pk"))
            .select_related("lead")
            .only("pk", "published", "lead__title")  # str(story), for the admin's history
            .select_for_update(of=("self",))
        )
        changed = [story for story in selected if story.published != published]
        kept = [story for story in selected if story.published == published]
        _update(changed, editor_decided_at=now, published=published, updated_at=now)
        _update(kept, editor_decided_at=now)
        if changed:
            ids = [story.pk for story in changed]
            refresh_counts(ids if len(ids) <= RECOUNT_ALL_ABOVE else None)
            transaction.on_commit(lambda: content_changed.send(sender=Story), using=stories.db)
    return Decision(published, now, changed, kept)


def publish(stories, *, now=None):
    """Publish ``stories`` (a queryset): see ``set_published``."""
    return set_published(stories, True, now=now)


def unpublish(stories, *, now=None):
    """Unpublish ``stories`` (a queryset): see ``set_published``."""
    return set_published(stories, False, now=now)


def _update(stories, **fields):
    ids = [story.pk for story in stories]
    for start in range(0, len(ids), UPDATE_CHUNK):
        Story.objects.filter(pk__in=ids[start : start + UPDATE_CHUNK]).update(**fields)
