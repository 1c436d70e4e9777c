"""Times in the reader's zone and locale: a reader in Tokyo sees Tokyo times, and a story of 23:30 UTC
under the next day's heading; without JavaScript the same page says its times are in UTC."""

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.factories import make_provider, make_story

TOPIC = "Time zone check"
LATE = datetime(2024, 5, 1, 23, 30, tzinfo=UTC)  # 08:30 on 2 May in Tokyo
NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # 21:00 on 1 May in Tokyo


def stories():
    make_story("Late in the UTC day", published_at=LATE, topics=[TOPIC])
    make_story("Noon in the UTC day", published_at=NOON, topics=[TOPIC])
    return "/topics/time-zone-check/"


def section_of(page, title):
    return page.locator("section.day", has=page.get_by_role("link", name=title))


def test_a_reader_in_tokyo_sees_tokyo_times_and_days(site, make_context, watch):
    path = stories()
    context = make_context(timezone_id="Asia/Tokyo", locale="ja-JP")
    page = watch.attach(context.new_page())
    page.goto(site.url + path)
    late, noon = section_of(page, "Late in the UTC day"), section_of(page, "Noon in the UTC day")
    expect(late).to_have_attribute("data-day", "2024-05-02")
    expect(noon).to_have_attribute("data-day", "2024-05-01")
    expect(page.locator("section.day")).to_have_count(2)
    expect(late.locator(".day-heading")).to_contain_text("2024年5月2日")
    expect(noon.locator(".day-heading")).to_contain_text("2024年5月1日")
    time = late.locator(f'time[datetime="{LATE.isoformat()}"]')
    expect(time).to_contain_text("08:30")
    expect(time).to_contain_text("2024年5月2日")
    expect(page.locator("[data-time-zone-note]")).to_contain_text("Asia/Tokyo")
    # The heading links to the day it names.
    assert late.locator(".day-heading a").get_attribute("href") == "/archive/2024/05/02/"
    assert not watch.problems(), watch.problems()


def test_without_javascript_times_stay_in_utc_and_say_so(site, make_context):
    path = stories()
    context = make_context(timezone_id="Asia/Tokyo", java_script_enabled=False)
    page = context.new_page()
    page.goto(site.url + path)
    expect(page.locator("section.day")).to_have_count(1)
    expect(page.locator(f'time[datetime="{LATE.isoformat()}"]')).to_have_text("1 May 2024, 23:30 UTC")
    expect(page.locator("[data-time-zone-note]")).to_have_text("Times are in UTC.")


def test_the_coverage_timeline_axis_follows_the_readers_zone(site, make_context, watch):
    story = make_story(
        "A story with a timeline",
        published_at=NOON,
        coverage=[{"provider": make_provider(f"outlet{n}.example.com"), "published_at": NOON} for n in range(3)],
    )
    chart_ticks = "svg.chart text[data-tick]"

    plain = make_context(java_script_enabled=False).new_page()
    plain.goto(site.url + story.get_absolute_url())
    utc_labels = plain.locator(chart_ticks).all_text_contents()
    expect(plain.locator("svg.chart [data-chart-zone]")).to_have_text("Times: UTC")

    page = watch.attach(make_context(timezone_id="Asia/Tokyo", locale="en-GB").new_page())
    page.goto(site.url + story.get_absolute_url())
    expect(page.locator("svg.chart [data-chart-zone]")).to_have_text("Your local times")
    tokyo_labels = page.locator(chart_ticks).all_text_contents()
    assert len(tokyo_labels) == len(utc_labels) >= 2
    for utc, tokyo in zip(utc_labels, tokyo_labels, strict=True):  # clock ticks: Tokyo is 9 hours ahead
        hours, minutes = utc.split(":")
        assert tokyo == f"{(int(hours) + 9) % 24:02d}:{minutes}", (utc_labels, tokyo_labels)
    assert not watch.problems(), watch.problems()
