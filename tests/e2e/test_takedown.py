"""Coverage takedown and picture credit in a real browser: an editor hides an item in the admin and
readers no longer see it; a credited picture reads "Picture: Outlet", passes axe with no violation
of any impact, in light and dark, and stays inside the CSP."""

import base64

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from stories.models import Story
from tests.e2e.conftest import SIZES
from tests.e2e.support import create_editor, log_in
from tests.e2e.test_accessibility import AXE_OPTIONS, summarize

axe = Axe()
# A 1x1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def credited_story():
    """A story of the bundled data whose picture is another outlet's (published here if a draft)."""
    story = Story.objects.filter(image__has_key="credit", coverage_count__gt=1).order_by("-outlet_count", "-id").first()
    assert story is not None, "the bundled seeds no longer hold a story with another outlet's picture"
    if not story.published:  # the page is what is under test, not the editors' choice
        Story.objects.filter(pk=story.pk).update(published=True)
    return story


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_credited_picture_says_whose_it_is_and_passes_axe(site, make_context, watch, scheme, size):
    story = credited_story()
    page = watch.attach(make_context(viewport=SIZES[size], color_scheme=scheme).new_page())
    # The outlet's picture, served here (the tests never reach other hosts; a picture that
    # fails to load takes its frame, and the credit, off the page).
    page.route(story.image["url"], lambda route: route.fulfill(body=PIXEL, content_type="image/png"))
    assert page.goto(site.url + story.get_absolute_url()).status == 200
    credit = page.locator("figure.lead-figure figcaption")
    expect(credit).to_be_visible()
    expect(credit).to_have_text(f"Picture: {story.image['credit']['name']}")
    expect(credit.get_by_role("link")).to_have_attribute("href", f"/providers/{story.image['credit']['slug']}/")
    violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
    assert violations == [], [summarize(v) for v in violations]
    assert watch.problems() == {}


def test_an_editor_hides_an_item_and_readers_no_longer_see_it(site, make_context, watch, monkeypatch, settings):
    story = credited_story()
    item = story.coverage_items.select_related("article").order_by("position").first().article
    create_editor(monkeypatch, settings)
    editor = watch.attach(make_context().new_page())
    log_in(editor, site.url)
    editor.goto(f"{site.url}/admin/stories/story/{story.pk}/change/")
    editor.get_by_role("row").filter(has_text=item.title).get_by_role("link", name="Hide from this story…").click()
    editor.get_by_label("Reason").fill("Legal request (browser test)")
    editor.get_by_role("button", name="Hide").click()
    expect(editor.locator(".messagelist")).to_contain_text("Reason: Legal request (browser test)")
    expect(editor.get_by_role("row").filter(has_text=item.title)).to_contain_text("Hidden from this story on")

    reader = watch.attach(make_context().new_page())
    assert reader.goto(site.url + story.get_absolute_url()).status == 200
    expect(reader.get_by_role("main")).not_to_contain_text(item.title)
    assert watch.problems() == {}
