"""stories.charts: the geometry of the coverage timeline and of the stories-per-week chart."""

from datetime import UTC, date, datetime, timedelta
from itertools import combinations, pairwise

import pytest

from stories.charts import (
    MARK_STEP,
    MAX_TICKS,
    TIMELINE_WIDTH,
    WEEKS,
    Point,
    choose_step,
    tick_times,
    timeline_chart,
    weekly_chart,
)

T = datetime(2020, 6, 11, 8, 0, tzinfo=UTC)


def minutes(n):
    return timedelta(minutes=n)


def test_no_points_no_chart():
    assert timeline_chart([]) is None


def test_one_mark_per_point_the_lead_a_diamond_in_time_order_on_the_axis():
    chart = timeline_chart(
        [
            Point(1, "Lead Times", T + minutes(60), lead=True),
            Point(2, "Early Bird", T),
            Point(3, "Late Post", T + minutes(390)),
        ]
    )
    assert len(chart.coverage_marks) == 2 and chart.lead_mark is not None
    assert chart.lead_mark.path.startswith("M") and chart.lead_mark.label == "Lead Times, 09:00 (headline article)"
    early, late = chart.coverage_marks
    assert early.label == "Early Bird, 08:00" and late.label == "Late Post, 14:30"
    assert early.x < chart.lead_mark.x < late.x
    assert chart.axis_start <= early.x and late.x <= chart.axis_end
    assert 0 < early.y < chart.axis_y and early.y == late.y == chart.lead_mark.y  # far apart: no stacking
    assert chart.title == "3 outlets reported this between 08:00 and 14:30 UTC on 11 June 2020; first: Early Bird."
    assert "the diamond is the headline article, Lead Times at 09:00" in chart.description


def test_marks_at_the_same_minute_are_stacked_apart_and_the_chart_grows_to_hold_them():
    few = timeline_chart([Point(0, "Lead", T, lead=True), Point(1, "A", T)])
    many = timeline_chart([Point(0, "Lead", T, lead=True)] + [Point(n, f"Outlet {n}", T) for n in range(1, 12)])
    assert len(many.marks) == 12
    for a, b in combinations(many.marks, 2):
        assert abs(a.x - b.x) >= MARK_STEP or abs(a.y - b.y) >= MARK_STEP, (a, b)
    assert all(mark.y > 0 for mark in many.marks)
    assert many.height > few.height
    assert many.title == "12 outlets reported this at 08:00 UTC on 11 June 2020; first: Lead."


def test_one_outlet_counted_once_and_the_period_across_days_names_both_dates():
    chart = timeline_chart(
        [Point(1, "Lead", T, lead=True), Point(1, "Lead", T + minutes(5)), Point(2, "Other", T + timedelta(days=1))]
    )
    assert chart.outlet_count == 2
    assert chart.title == (
        "2 outlets reported this between 11 June 2020, 08:00 and 12 June 2020, 08:00 UTC; first: Lead."
    )


def test_ticks_are_few_round_inside_the_axis_and_far_enough_apart_not_to_touch():
    for span in [
        minutes(0),
        minutes(3),
        minutes(47),
        timedelta(hours=6, minutes=30),
        timedelta(days=3),
        timedelta(days=400),
    ]:
        chart = timeline_chart([Point(1, "Lead", T, lead=True), Point(2, "Other", T + span)])
        xs = [tick.x for tick in chart.ticks]
        assert 1 <= len(xs) <= MAX_TICKS, span
        assert xs == sorted(xs) and xs[0] > 0 and xs[-1] < TIMELINE_WIDTH, span
        assert all(b - a >= 60 for a, b in pairwise(xs)), (span, xs)  # a label is ~45 units wide


def test_tick_labels_are_times_with_the_date_where_it_changes():
    times, step = tick_times(datetime(2020, 6, 11, 22, 10, tzinfo=UTC), datetime(2020, 6, 12, 3, 0, tzinfo=UTC))
    assert step == timedelta(hours=2)
    assert [t.strftime("%H:%M") for t in times] == ["00:00", "02:00"]
    chart = timeline_chart(
        [
            Point(1, "A", datetime(2020, 6, 11, 22, 10, tzinfo=UTC), lead=True),
            Point(2, "B", datetime(2020, 6, 12, 3, 0, tzinfo=UTC)),
        ]
    )
    assert [(tick.line1, tick.line2) for tick in chart.ticks] == [("00:00", "12 Jun"), ("02:00", "")]


def test_the_step_grows_with_the_span():
    assert choose_step(minutes(10)) == minutes(5)
    assert choose_step(timedelta(hours=6)) == timedelta(hours=2)
    assert choose_step(timedelta(days=30)) == timedelta(days=14)


# --- stories per week ----------------------------------------------------------------------------


def test_nothing_counted_no_chart():
    assert weekly_chart({}) is None
    assert weekly_chart({date(2020, 6, 1): 0}) is None


def test_fifty_two_weekly_bars_ending_with_the_latest_week():
    latest = date(2020, 6, 11)  # a Thursday: its week starts on Monday 8 June
    counts = {
        latest: 2,
        date(2020, 6, 8): 1,  # the same week
        date(2020, 6, 7): 4,  # the Sunday before: the week before
        date(2019, 6, 17): 1,  # the first week of the window
        date(2019, 6, 16): 9,  # the Sunday before: left out
    }
    chart = weekly_chart(counts)
    assert len(chart.bars) == WEEKS
    assert chart.first_week == date(2019, 6, 17) and chart.last_week == date(2020, 6, 8)
    assert [bar.count for bar in chart.bars][:1] + [bar.count for bar in chart.bars][-2:] == [1, 4, 3]
    assert chart.total == 8
    assert chart.busiest.start == date(2020, 6, 1) and chart.busiest.count == 4
    assert chart.description == "8 stories in all; the busiest week was that of 1 Jun 2020, with 4."
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest is chart.busiest and tallest.y + tallest.height == chart.baseline_y
    xs = [bar.x for bar in chart.bars]
    assert xs == sorted(xs) and xs[-1] + 4 <= chart.width
    assert chart.bars[-1].label == "Week of 8 Jun 2020: 3 stories"


def test_a_quiet_week_beside_a_busy_one_stays_visible():
    chart = weekly_chart({date(2020, 6, 11): 1000, date(2020, 1, 1): 1})
    assert min(bar.height for bar in chart.bars if bar.count) >= 2
    assert all(bar.height == 0 for bar in chart.bars if not bar.count)


# --- drawn on the story page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_story_page_draws_the_timeline_in_any_order_with_escaped_names(client):
    from tests.factories import BASE_TIME, make_provider, make_story
    from tests.views.helpers import page

    hostile = make_provider("hostile.example.com", "<b>Bold</b> & Co")
    story = make_story(
        "Timeline story",
        coverage=[
            {"provider": hostile, "published_at": BASE_TIME - timedelta(minutes=30)},
            {"provider": hostile, "published_at": BASE_TIME + timedelta(hours=2)},  # one outlet, one mark
            *({"published_at": BASE_TIME + timedelta(minutes=5)} for _ in range(6)),  # six outlets, one minute
        ],
    )
    for url in [story.get_absolute_url(), story.get_absolute_url() + "?order=time"]:
        response = client.get(url)
        assert "<b>Bold" not in response.content.decode()
        svg = page(response).find("figure", class_="timeline-chart").find("svg", role="img")
        assert svg.get("aria-labelledby") == "timeline-chart-title"
        assert svg.get("aria-describedby") == "timeline-chart-desc"
        title = svg.find("title", id="timeline-chart-title").text
        assert title == "8 outlets reported this between 11:30 and 12:05 UTC on 1 May 2024; first: <b>Bold</b> & Co."
        marks = svg.find_all(class_="chart-mark")
        assert len(svg.find_all("circle", class_="mark-coverage chart-mark")) == 7
        assert len(svg.find_all("path", class_="mark-lead chart-mark")) == 1 and len(marks) == 8
        assert not svg.find_all(style=True)
    lonely = make_story("No coverage")
    assert not page(client.get(lonely.get_absolute_url())).find_all("svg")
