"""Muting outlets in a real browser: a Mute button on a coverage row, kept in localStorage, undone by the
"N outlets muted" control; and without JavaScript, the ?mute= address and its unmute links."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.support import reference_pages

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}


def first_row_outlet(page):
    """The slug and the row of the story page's first coverage row that is not the lead's own outlet."""
    lead = page.locator(".story-header [data-mute]").get_attribute("data-mute")
    for row in page.locator(".coverage-row").all():
        slug = row.get_attribute("data-outlet")
        if slug != lead:
            return slug, row
    pytest.fail("the reference story has no coverage from another outlet")


def test_muting_an_outlet_on_a_story_page_hides_it_and_survives_a_reload(site, page, watch):
    watch.attach(page)
    story = site.url + reference_pages()["story"]
    page.goto(story)
    slug, row = first_row_outlet(page)
    heading = page.locator("#coverage-heading")
    before = int(heading.inner_text().split()[2])
    control = page.locator("[data-mute-control]")
    expect(control).to_be_hidden()

    row.locator("[data-mute]").click()
    expect(page.locator(f'.coverage-row[data-outlet="{slug}"]')).to_be_hidden()
    expect(control).to_be_visible()
    expect(control).to_contain_text("1 outlet muted")
    expect(heading).to_have_text(f"Reported by {before - 1} outlet{'' if before - 1 == 1 else 's'}")
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert violations == [], [(v["id"], v["impact"], v["help"]) for v in violations]

    page.reload()
    expect(page.locator(f'.coverage-row[data-outlet="{slug}"]')).to_be_hidden()
    expect(control).to_contain_text("1 outlet muted")
    # Cards elsewhere lose the outlet's name too.
    page.goto(site.url + "/")
    for name in page.locator(f'.outlet-name[data-outlet="{slug}"]').all():
        expect(name).to_be_hidden()
    for led in page.locator(f'article.story[data-lead-outlet="{slug}"]').all():
        expect(led).to_be_hidden()
    for day in page.locator("section.day").all():  # a day left without a story goes with its heading
        assert day.locator("article.story:visible").count() > 0 or not day.is_visible()

    page.goto(story)
    control.get_by_role("button", name="Unmute all").click()
    expect(control).to_be_hidden()
    expect(page.locator(f'.coverage-row[data-outlet="{slug}"]')).to_be_visible()
    expect(heading).to_have_text(f"Reported by {before} outlets")
    page.reload()
    expect(page.locator(f'.coverage-row[data-outlet="{slug}"]')).to_be_visible()
    page.goto(site.url + "/")
    for name in page.locator(f'.outlet-name[data-outlet="{slug}"]').all():
        expect(name).to_be_visible()
    assert not watch.problems(), watch.problems()


def test_without_javascript_the_address_mutes_and_its_links_unmute(site, make_context):
    context = make_context(java_script_enabled=False)
    page = context.new_page()
    story = site.url + reference_pages()["story"]
    page.goto(story)
    slug, _row = first_row_outlet(page)
    expect(page.locator("[data-mute]").first).to_be_hidden()  # muting in the browser needs the script

    page.goto(f"{story}?mute={slug}")
    expect(page.locator(f'.coverage-row[data-outlet="{slug}"]')).to_have_count(0)
    expect(page.get_by_text("1 outlet muted")).to_be_visible()
    page.get_by_role("link", name="Unmute all").click()
    expect(page).to_have_url(story)
    expect(page.locator(f'.coverage-row[data-outlet="{slug}"]')).to_have_count(1)


def test_an_outlet_muted_on_its_own_page_leaves_the_lists(site, page, watch):
    watch.attach(page)
    outlet_page = site.url + reference_pages()["provider"]
    page.goto(outlet_page)
    button = page.locator(".page-head [data-mute]")
    slug = button.get_attribute("data-mute")
    led = page.locator(f'article.story[data-lead-outlet="{slug}"]')
    assert led.count() > 0
    expect(led.first).to_be_visible()

    button.click()
    expect(page.locator("[data-mute-control]")).to_contain_text("1 outlet muted")
    for card in led.all():
        expect(card).to_be_hidden()
    page.goto(site.url + "/")
    for card in page.locator(f'article.story[data-lead-outlet="{slug}"]').all():
        expect(card).to_be_hidden()
    assert not watch.problems(), watch.problems()
