"""Changelists that stay fast on large tables, in a fixed number of queries per page.

- Counting: Django's changelist asks its paginator for ``count`` on every page.
  For the unfiltered list of a large table that is a full scan on PostgreSQL,
  so there the planner's row estimate (``pg_class.reltuples``, kept fresh by
  autovacuum) is used instead once the table is large. Filtered or searched
  lists, small tables and other databases get an exact count (SQLite counts
  100,000 rows in a few milliseconds).
- The page's rows: the page's ids are found first (a sort of narrow rows, which
  SQLite does ten to twenty times faster than sorting whole joined rows), then
  those rows are read with their related rows.
- The date hierarchy: Django lists the years, months or days that have rows
  with a DISTINCT over the whole (filtered) list, twice scanning it. Here one
  MIN/MAX aggregate gives the range and every year (month, day) in it is
  offered, so a gap in the data shows as a link to an empty list.
"""

import calendar
import datetime

from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import DatabaseError, connections, models
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _

# Below this many rows an exact count is cheap enough everywhere.
ESTIMATE_ABOVE = 10_000


def estimated_rows(model, using="default"):
    """The planner's estimate of ``model``'s row count; None if there is none (not PostgreSQL, never analyzed)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [model._meta.db_table])
            row = cursor.fetchone()
    except DatabaseError:
        return None
    if row is None or row[0] is None or row[0] < 0:  # -1: never vacuumed or analyzed
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """A Paginator whose ``count`` is an estimate for the unfiltered list of a large table.

    ``is_estimate`` tells templates to say "about".
    """

    estimate_above = ESTIMATE_ABOVE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_estimate = False

    @cached_property
    def count(self):
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where and not query.distinct and not query.combinator:
            estimate = estimated_rows(queryset.model, using=queryset.db)
            if estimate is not None and estimate > self.estimate_above:
                self.is_estimate = True
                return estimate
        return super().count


class LargeTableChangeList(ChangeList):
    """A changelist reading the page's ids before its rows, with a date hierarchy from one aggregate."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = self.page_rows(self.result_list)

    def page_rows(self, result_list):
        """The same rows in the same order, read by id: two queries whatever the page size."""
        query = result_list.query
        if query.distinct or query.combinator:
            return result_list
        ids = list(result_list.values_list("pk", flat=True))
        return self.queryset.filter(pk__in=ids)

    @cached_property
    def date_hierarchy_links(self):
        """What ``admin/date_hierarchy.html`` shows (show, back, choices), like Django's own tag computes."""
        field_name = self.date_hierarchy
        year_field, month_field, day_field = (f"{field_name}__{part}" for part in ("year", "month", "day"))
        year, month, day = (self.params.get(name) for name in (year_field, month_field, day_field))

        def link(filters):
            return self.get_query_string(filters, [f"{field_name}__"])

        if year and month and day:
            date = datetime.date(int(year), int(month), int(day))
            return {
                "show": True,
                "back": {
                    "link": link({year_field: year, month_field: month}),
                    "title": capfirst(formats.date_format(date, "YEAR_MONTH_FORMAT")),
                },
                "choices": [{"title": capfirst(formats.date_format(date, "MONTH_DAY_FORMAT"))}],
            }

        bounds = self.queryset.aggregate(first=models.Min(field_name), last=models.Max(field_name))
        first, last = bounds["first"], bounds["last"]
        if first is None or last is None:
            return {"show": True, "back": None, "choices": []} if not year else self._back_only(year, month, link)
        if isinstance(first, datetime.datetime):
            first, last = (timezone.localtime(value) if timezone.is_aware(value) else value for value in (first, last))
        if not year and first.year == last.year:
            year = str(first.year)
            if first.month == last.month:
                month = str(first.month)

        if year and month:
            days = range(first.day, last.day + 1) if (first.year, first.month) == (last.year, last.month) else None
            days = days or range(1, calendar.monthrange(int(year), int(month))[1] + 1)
            return {
                "show": True,
                "back": {"link": link({year_field: year}), "title": str(year)},
                "choices": [
                    {
                        "link": link({year_field: year, month_field: month, day_field: number}),
                        "title": capfirst(
                            formats.date_format(datetime.date(int(year), int(month), number), "MONTH_DAY_FORMAT")
                        ),
                    }
                    for number in days
                ],
            }
        if year:
            months = range(first.month, last.month + 1) if first.year == last.year else range(1, 13)
            return {
                "show": True,
                "back": {"link": link({}), "title": _("All dates")},
                "choices": [
                    {
                        "link": link({year_field: year, month_field: number}),
                        "title": capfirst(
                            formats.date_format(datetime.date(int(year), number, 1), "YEAR_MONTH_FORMAT")
                        ),
                    }
                    for number in months
                ],
            }
        return {
            "show": True,
            "back": None,
            "choices": [
                {"link": link({year_field: str(number)}), "title": str(number)}
                for number in range(first.year, last.year + 1)
            ],
        }

    def _back_only(self, year, month, link):
        field_name = self.date_hierarchy
        if month:
            return {
                "show": True,
                "back": {"link": link({f"{field_name}__year": year}), "title": str(year)},
                "choices": [],
            }
        return {"show": True, "back": {"link": link({}), "title": _("All dates")}, "choices": []}
