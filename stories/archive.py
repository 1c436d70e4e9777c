"""The month and year archives: which days have published stories, and how many.

A month or a year costs one grouped query over its range of the (published,
-published_at) index and two index probes for the nearest stories before and
after it (the previous and next month or year with stories). The answer is the
same for every reader until the content changes, so it is cached under the
content generation; an empty month or year is not cached (made-up dates must
not fill the cache). Days are in the site's time zone (TIME_ZONE), as on the
day pages. Drafts never reach an archive: published stories only.
"""

import datetime

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from stories.caching import generation
from stories.models import Story

ARCHIVE_SECONDS = 300  # at most; any content change makes new entries at once (the cache generation)


def period_bounds(year, month=None):
    """[start, end) of a month (or of a whole year) as aware datetimes; ValueError for an impossible one."""
    zone = timezone.get_current_timezone()
    try:
        start = datetime.datetime(year, month or 1, 1, tzinfo=zone)
        if month is None:
            end = datetime.datetime(year + 1, 1, 1, tzinfo=zone)
        else:
            end = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"no such period: {year}-{month}") from exc
    return start, end


def archive_days(year, month=None):
    """The days of a month (or a year) that have published stories.

    A dict: ``days``, a list of (date, number of stories), oldest first;
    ``previous`` and ``next``, the dates of the nearest published stories before
    and after the period (None when there is none). None when the period has no
    published story or is no real date.
    """
    try:
        start, end = period_bounds(year, month)
    except ValueError:
        return None
    key = f"archive:{generation()}:{year}:{month or 0}"
    found = cache.get(key)
    if found is not None:
        return found
    published = Story.objects.published()
    days = sorted(
        published.filter(published_at__gte=start, published_at__lt=end)
        .annotate(day=TruncDate("published_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    if not days:
        return None
    previous = (
        published.filter(published_at__lt=start)
        .order_by("-published_at", "-id")
        .values_list("published_at", flat=True)
        .first()
    )
    following = (
        published.filter(published_at__gte=end).order_by("published_at", "id").values_list("published_at", flat=True)
    ).first()
    found = {
        "days": days,
        "previous": timezone.localdate(previous) if previous else None,
        "next": timezone.localdate(following) if following else None,
    }
    cache.set(key, found, ARCHIVE_SECONDS)
    return found


def by_month(days):
    """A year's (date, count) days grouped by month: [{"month": first day, "days": [...], "total": n}, ...]."""
    months = []
    for day, count in days:
        first = day.replace(day=1)
        if not months or months[-1]["month"] != first:
            months.append({"month": first, "days": [], "total": 0})
        months[-1]["days"].append((day, count))
        months[-1]["total"] += count
    return months


def latest_story_day():
    """The day of the newest published story (for /archive/), or None."""
    latest = Story.objects.published().newest_first().values_list("published_at", flat=True).first()
    return timezone.localdate(latest) if latest else None
