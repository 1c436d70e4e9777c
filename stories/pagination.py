"""Keyset ("newer / older") pagination: every page costs the same, however deep.

A page is the rows that follow (``?after=``) or precede (``?before=``) a cursor in
a fixed ordering. The cursor is the sort values of the boundary row, written as
integers joined by dots (datetimes as microseconds since 1970), for example
``?after=1591840860000000.45`` for ``(published_at, id)``.

There is no OFFSET and no COUNT: one query fetches ``per_page + 1`` rows, the
extra row telling whether another page follows. The lexicographic condition
"after (a, b, c)" is written as nested conditions the database can answer with
an index range search::

    a <= A AND NOT (a = A AND NOT (b <= B AND NOT (b = B AND c >= C)))

rather than as an ``OR`` of alternatives, which SQLite answers with a scan.

A malformed cursor, or one past the end of the list, raises ``Http404``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.http import Http404

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CURSOR_LENGTH = 200
MAX_INT = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Key:
    """One sort key: a model field, its direction, and whether it holds a datetime."""

    field: str
    descending: bool = True
    is_datetime: bool = False

    def value_of(self, obj):
        for name in self.field.split("__"):
            obj = getattr(obj, name)
        return obj

    def encode(self, value):
        if self.is_datetime:
            delta = value - EPOCH
            return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
        return str(int(value))

    def decode(self, text):
        if not text or len(text) > 20 or not text.lstrip("-").isdigit():
            raise ValueError(text)
        number = int(text)
        if abs(number) > MAX_INT:
            raise ValueError(text)
        if self.is_datetime:
            return EPOCH + timedelta(microseconds=number)  # OverflowError past year 9999
        return number


NEWEST = (Key("published_at", is_datetime=True), Key("id"))
TOP = (Key("outlet_count"), Key("quality"), Key("heat"), Key("published_at", is_datetime=True), Key("id"))
# An outlet's own stories, by its articles' time: the article index (provider, -published_at)
# finds them, where the story index would be scanned for the few the outlet led.
LEAD_NEWEST = (Key("lead__published_at", is_datetime=True), Key("id"))


@dataclass(slots=True)
class KeysetPage:
    object_list: list
    next_cursor: str | None  # for ?after=: the rows that follow this page
    previous_cursor: str | None  # for ?before=: the rows that precede it
    is_first: bool

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    @property
    def has_other_pages(self):
        return bool(self.next_cursor or self.previous_cursor)


class KeysetPaginator:
    def __init__(self, keys=NEWEST, per_page=30):
        self.keys = tuple(keys)
        self.per_page = per_page

    # --- cursors ------------------------------------------------------------

    def cursor_for(self, obj):
        return ".".join(key.encode(key.value_of(obj)) for key in self.keys)

    def parse(self, cursor):
        """The sort values a cursor names; ``Http404`` when it is malformed."""
        parts = cursor.split(".") if cursor and len(cursor) <= MAX_CURSOR_LENGTH else []
        if len(parts) != len(self.keys):
            raise Http404("Malformed page cursor.")
        try:
            return [key.decode(part) for key, part in zip(self.keys, parts, strict=True)]
        except (ValueError, OverflowError):
            raise Http404("Malformed page cursor.") from None

    # --- conditions ---------------------------------------------------------

    def _beyond(self, values, forward):
        """Rows strictly past ``values`` in list order (``forward``) or strictly before it."""
        condition = None
        for key, value in reversed(list(zip(self.keys, values, strict=True))):
            goes_down = key.descending == forward
            if condition is None:
                condition = Q(**{f"{key.field}__{'lt' if goes_down else 'gt'}": value})
            else:
                condition = Q(**{f"{key.field}__{'lte' if goes_down else 'gte'}": value}) & ~(
                    Q(**{key.field: value}) & ~condition
                )
        return condition

    def ordering(self, forward=True):
        return [f"{'-' if key.descending == forward else ''}{key.field}" for key in self.keys]

    # --- pages --------------------------------------------------------------

    def paginate(self, queryset, params):
        """The page that ``params`` (a ``request.GET``) asks for, in one query."""
        after, before = params.get("after"), params.get("before")
        if after is not None and before is not None:
            raise Http404("A page cannot be both before and after a cursor.")
        size = self.per_page
        if before is not None:
            rows = list(
                queryset.filter(self._beyond(self.parse(before), False)).order_by(*self.ordering(False))[: size + 1]
            )
            if not rows:
                raise Http404("No stories before this point.")
            has_more = len(rows) > size
            rows = rows[:size][::-1]
            return KeysetPage(
                rows,
                next_cursor=self.cursor_for(rows[-1]),
                previous_cursor=self.cursor_for(rows[0]) if has_more else None,
                is_first=not has_more,
            )
        if after is not None:
            queryset = queryset.filter(self._beyond(self.parse(after), True))
        rows = list(queryset.order_by(*self.ordering(True))[: size + 1])
        if after is not None and not rows:
            raise Http404("No stories after this point.")
        has_more = len(rows) > size
        rows = rows[:size]
        return KeysetPage(
            rows,
            next_cursor=self.cursor_for(rows[-1]) if has_more else None,
            previous_cursor=self.cursor_for(rows[0]) if after is not None else None,
            is_first=after is None,
        )
