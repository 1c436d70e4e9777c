"""In a real browser, *Apply filters* again keeps what was applied: each field holds the value applied, or nothing."""

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import expect

from stories.models import Provider


def applied(page):
    """The URL's filter parameters that have a value."""
    return {name: values for name, values in parse_qs(urlsplit(page.url).query).items() if name != "q"}


def test_applying_the_filters_again_keeps_every_filter(site, page, watch):
    watch.attach(page)
    outlet = Provider.objects.filter(led_count__gt=0).order_by("-led_count").first()
    given = {"since": "2020-01-01", "until": "2030-12-31", "min_quality": " 5 ", "provider": outlet.slug}
    page.goto(f"{site.url}/search/?q=the&{urlencode(given)}")
    chips = page.locator(".chip > span")
    expect(chips).to_have_count(4)
    shown = chips.all_inner_texts()
    expect(page.get_by_label("From", exact=True)).to_have_value("2020-01-01")
    expect(page.get_by_label("Minimum quality")).to_have_value("5")

    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"[?&]min_quality=5(&|$)"))
    assert applied(page) == {
        "since": ["2020-01-01"],
        "until": ["2030-12-31"],
        "min_quality": ["5"],
        "provider": [outlet.slug],
    }
    expect(chips).to_have_text(shown)
    assert not watch.problems(), watch.problems()


def test_a_rejected_value_shows_an_empty_field_and_its_error_and_applies_nothing(site, page, watch):
    watch.attach(page)
    page.goto(f"{site.url}/?{urlencode({'since': '06/01/2020', 'min_quality': 'abc', 'topic': 'nope'})}")
    expect(page.locator(".chip")).to_have_count(0)
    expect(page.get_by_text("“06/01/2020” is not a date: use YYYY-MM-DD.")).to_be_visible()
    expect(page.get_by_text("“abc” is not a whole number.")).to_be_visible()
    expect(page.get_by_text("“nope” is not a topic with stories.")).to_be_visible()
    expect(page.get_by_label("From", exact=True)).to_have_value("")
    expect(page.get_by_label("Minimum quality")).to_have_value("")

    page.get_by_role("button", name="Apply filters").click()  # what the reader sees is what is sent
    expect(page).to_have_url(re.compile(r"[?&]topic=(&|$)"))
    assert applied(page) == {}
    expect(page.locator(".error")).to_have_count(0)
    assert not watch.problems(), watch.problems()
