"""Pictures of the coverage, as geometry: a story's timeline and stories per week.

Pure: plain values in, plain values out, no database and no markup. The includes
templates/includes/timeline_chart.html and weekly_chart.html draw the results as
SVG, colours coming from CSS classes (the CSP forbids inline styles). Coordinates
are viewBox units; the SVG is drawn at the width of its box, so the sizes below
are chosen to stay readable on a 360 px phone (about 0.8 px a unit there).

Times are shown in the site's time zone (TIME_ZONE, UTC), like every page.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

# --- a story's timeline --------------------------------------------------------

TIMELINE_WIDTH = 400
TIMELINE_PAD = 32  # room for half a time label at either end of the axis
MARK_RADIUS = 6
MARK_STEP = 2 * MARK_RADIUS + 2  # marks closer than this in x would touch: the later one is stacked above
LEGEND_HEIGHT = 28
LABEL_LINE = 16  # one line of tick labels
MAX_TICKS = 5  # at most 5 labels of "HH:MM" fit the axis without touching at 360 px
MIN_SPAN = datetime.timedelta(minutes=10)  # reports within one minute still get a readable axis

MINUTE, HOUR, DAY = datetime.timedelta(minutes=1), datetime.timedelta(hours=1), datetime.timedelta(days=1)
TICK_STEPS = (
    *(n * MINUTE for n in (1, 2, 5, 10, 15, 30)),
    *(n * HOUR for n in (1, 2, 3, 6, 12)),
    *(n * DAY for n in (1, 2, 7, 14, 30, 61, 91, 182, 365, 730, 1826, 3652)),
)


@dataclass(frozen=True)
class Point:
    """One article on the timeline: its outlet (a key telling outlets apart, and a name), its time."""

    outlet_key: object
    outlet: str
    when: datetime.datetime
    lead: bool = False


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    lead: bool
    label: str  # the mark's tooltip: outlet and time
    path: str = ""  # the headline article's diamond (a circle otherwise)


@dataclass(frozen=True)
class Tick:
    x: float
    line1: str
    line2: str  # the date (or year) where it changes, else ""
    when: str = ""  # ISO time in UTC: site.js relabels the tick in the reader's zone
    by_day: bool = False  # a tick per day (labels are dates), else clock times


@dataclass(frozen=True)
class TimelineChart:
    width: int
    height: int
    marks: list
    ticks: list
    axis_y: float
    axis_start: float
    axis_end: float
    title: str
    description: str
    outlet_count: int

    @property
    def coverage_marks(self):
        return [mark for mark in self.marks if not mark.lead]

    @property
    def lead_mark(self):
        return next((mark for mark in self.marks if mark.lead), None)

    @property
    def view_box(self):
        return f"0 0 {self.width} {self.height}"

    @property
    def tick_end_y(self):
        return self.axis_y + 5

    @property
    def label_y1(self):
        return self.axis_y + 6 + LABEL_LINE - 2

    @property
    def label_y2(self):
        return self.axis_y + 6 + 2 * LABEL_LINE - 2


def _local(value):
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _clock(value):
    return f"{_local(value):%H:%M}"


def _date(value, *, year=True):
    local = _local(value)
    return f"{local.day} {local:%B %Y}" if year else f"{local.day} {local:%b}"


def _diamond(x, y, r):
    r = r + 1  # a diamond looks smaller than a circle of the same radius
    return f"M{x:.1f},{y - r:.1f} L{x + r:.1f},{y:.1f} L{x:.1f},{y + r:.1f} L{x - r:.1f},{y:.1f} Z"


def choose_step(span):
    """The smallest tick step that puts at most MAX_TICKS ticks on an axis ``span`` long."""
    for step in TICK_STEPS:
        if span / step <= MAX_TICKS - 1:
            return step
    return TICK_STEPS[-1]


def tick_times(start, end):
    """Round times between ``start`` and ``end`` (local, aware): multiples of the step from midnight."""
    step = choose_step(end - start)
    local_start = _local(start)
    midnight = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
    if step >= DAY:
        # Whole days, counted from a fixed day so that ticks do not depend on where the axis starts.
        origin = midnight.replace(year=2000, month=1, day=3)
        steps = -(-(midnight - origin) // step)
        first = origin + steps * step
        first = first if first >= local_start else first + step
    else:
        steps = -(-(local_start - midnight) // step)
        first = midnight + steps * step
    times, current = [], first
    while current <= end:
        times.append(current)
        current += step
    return times, step


def _tick_labels(times, step):
    ticks, previous = [], None
    for when in times:
        local = _local(when)
        if step >= DAY:
            line1 = f"{local.day} {local:%b}"
            line2 = f"{local:%Y}" if previous is None or previous.year != local.year else ""
        else:
            line1 = f"{local:%H:%M}"
            line2 = f"{local.day} {local:%b}" if previous is None or previous.date() != local.date() else ""
        ticks.append((when, line1, line2))
        previous = local
    return ticks


def _period(first, last):
    """ "between 08:00 and 14:30 UTC on 11 June 2020", or across days with both dates."""
    zone = _local(first).tzname() or "UTC"
    if _clock(first) == _clock(last) and _date(first) == _date(last):
        return f"at {_clock(first)} {zone} on {_date(first)}"
    if _date(first) == _date(last):
        return f"between {_clock(first)} and {_clock(last)} {zone} on {_date(first)}"
    return f"between {_date(first)}, {_clock(first)} and {_date(last)}, {_clock(last)} {zone}"


def timeline_chart(points):
    """The geometry of a coverage timeline: one mark per ``Point``, stacked where they would touch.

    ``points`` holds the headline article (``lead=True``) and each outlet's best item
    (``coverage.coverage_rows``). Returns None for an empty list.
    """
    if not points:
        return None
    points = sorted(points, key=lambda p: (p.when, not p.lead, p.outlet.lower()))
    first, last = points[0].when, points[-1].when
    span = max(last - first, MIN_SPAN)
    start = first - (span - (last - first)) / 2
    end = start + span
    inner = TIMELINE_WIDTH - 2 * TIMELINE_PAD

    def x_of(when):
        return TIMELINE_PAD + inner * ((when - start) / span)

    # Stack: each mark goes on the lowest level whose last mark is far enough to its left.
    level_ends, placed = [], []
    for point in points:
        x = x_of(point.when)
        level = next((n for n, end_x in enumerate(level_ends) if x - end_x >= MARK_STEP), len(level_ends))
        if level == len(level_ends):
            level_ends.append(x)
        else:
            level_ends[level] = x
        placed.append((point, x, level))
    levels = len(level_ends)
    axis_y = LEGEND_HEIGHT + 6 + levels * MARK_STEP + 4
    base_y = axis_y - 4 - MARK_STEP / 2
    marks = []
    lead_time = next((p.when for p in points if p.lead), None)
    for point, x, level in placed:
        y = base_y - level * MARK_STEP
        label = f"{point.outlet}, {_clock(point.when)}"
        if point.lead:
            diamond = _diamond(x, y, MARK_RADIUS)
            marks.append(Mark(round(x, 1), round(y, 1), True, f"{label} (headline article)", diamond))
        else:
            marks.append(Mark(round(x, 1), round(y, 1), False, label))
    times, step = tick_times(start, end)
    ticks = [
        Tick(round(x_of(when), 1), line1, line2, when.isoformat(), step >= DAY)
        for when, line1, line2 in _tick_labels(times, step)
    ]
    outlet_count = len({p.outlet_key for p in points})
    title = (
        f"{outlet_count} outlet{'s' if outlet_count != 1 else ''} reported this {_period(first, last)}; "
        f"first: {points[0].outlet}."
    )
    lead = next((p for p in points if p.lead), None)
    description = "Each circle is one outlet's article at the time it was published"
    if lead is not None:
        description += f"; the diamond is the headline article, {lead.outlet} at {_clock(lead_time)}"
    description += ". Marks at the same time are stacked. The list of the coverage names every outlet and time."
    return TimelineChart(
        width=TIMELINE_WIDTH,
        height=int(axis_y + 6 + 2 * LABEL_LINE + 4),
        marks=marks,
        ticks=ticks,
        axis_y=axis_y,
        axis_start=TIMELINE_PAD / 2,
        axis_end=TIMELINE_WIDTH - TIMELINE_PAD / 2,
        title=title,
        description=description,
        outlet_count=outlet_count,
    )


def story_timeline_chart(lead, rows):
    """``timeline_chart`` of a story: its headline article and each coverage row's best item."""
    points = [Point(lead.provider_id, lead.provider.name, lead.published_at, lead=True)]
    points += [Point(row.best.provider_id, row.provider.name, row.best.published_at) for row in rows]
    return timeline_chart(points)


# --- stories per week ----------------------------------------------------------

WEEKS = 52
BAR_WIDTH = 4
BAR_SLOT = 6  # bar and gap
WEEKLY_WIDTH = WEEKS * BAR_SLOT
WEEKLY_TOP = 16  # room for the busiest week's count above the bars
BARS_HEIGHT = 56
WEEKLY_HEIGHT = WEEKLY_TOP + BARS_HEIGHT + 18  # and the dates under them


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    start: datetime.date
    count: int
    label: str


@dataclass(frozen=True)
class WeeklyChart:
    bars: list
    total: int
    busiest: Bar
    first_week: datetime.date
    last_week: datetime.date
    title: str
    description: str
    width: int = WEEKLY_WIDTH
    height: int = WEEKLY_HEIGHT
    baseline_y: float = WEEKLY_TOP + BARS_HEIGHT
    label_y: float = WEEKLY_HEIGHT - 4

    @property
    def view_box(self):
        return f"0 0 {self.width} {self.height}"

    @property
    def max_label_y(self):
        return WEEKLY_TOP - 4


def week_start(day):
    """The Monday of ``day``'s week."""
    return day - datetime.timedelta(days=day.weekday())


def window_start(latest):
    """The first day (a Monday) of the WEEKS weeks that end with ``latest``'s week."""
    return week_start(latest) - datetime.timedelta(weeks=WEEKS - 1)


def _short(day):
    return f"{day.day} {day:%b %Y}"


def weekly_chart(day_counts):
    """The geometry of a stories-per-week chart: WEEKS bars ending with the week of the latest day counted.

    ``day_counts`` maps dates to numbers of stories; days before the window are
    ignored. Returns None when nothing is counted.
    """
    counted = {day: n for day, n in day_counts.items() if n}
    if not counted:
        return None
    first = window_start(max(counted))
    weeks = [0] * WEEKS
    for day, n in counted.items():
        index = (day - first).days // 7
        if 0 <= index < WEEKS:
            weeks[index] += n
    most = max(weeks)
    bars = []
    for index, n in enumerate(weeks):
        height = round(BARS_HEIGHT * n / most, 1) if n else 0
        if n and height < 2:
            height = 2  # a week with one story among hundreds stays visible
        start = first + datetime.timedelta(weeks=index)
        label = f"Week of {_short(start)}: {n} stor{'y' if n == 1 else 'ies'}"
        bars.append(Bar(index * BAR_SLOT + 1, WEEKLY_TOP + BARS_HEIGHT - height, height, start, n, label))
    busiest = max(bars, key=lambda bar: (bar.count, bar.start))
    total = sum(weeks)
    last = first + datetime.timedelta(weeks=WEEKS - 1)
    title = f"Stories per week, the {WEEKS} weeks to the week of {_short(last)}"
    description = (
        f"{total} stor{'y' if total == 1 else 'ies'} in all; the busiest week was that of "
        f"{_short(busiest.start)}, with {busiest.count}."
    )
    return WeeklyChart(bars, total, busiest, first, last, title, description)
