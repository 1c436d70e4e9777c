"""A reader searches for a Japanese substring (no spaces around it in the headline) and sees the story,
its matching text with the words marked, and how many stories matched; axe finds nothing on that page."""

from playwright.sync_api import expect

from tests.e2e.test_accessibility import AXE_OPTIONS, axe, summarize
from tests.factories import make_article, make_story

ROKI = "佐々木朗希、メジャー初勝利　ドジャース"


def test_a_reader_finds_a_japanese_headline_by_a_substring(site, make_context, watch):
    story = make_story(ROKI, lead={"excerpt": "大谷翔平も祝福した。"})
    make_story("Dodgers news", coverage=[make_article(title="速報", excerpt="佐々木投手が先発する。")])
    make_story("新型コロナ　感染者数が増加")
    for scheme in ("light", "dark"):
        page = watch.attach(make_context(color_scheme=scheme).new_page())
        page.goto(site.url + "/search/")
        main = page.locator("main")
        main.get_by_label("Words to find in the headlines and excerpts").fill("佐々木")
        main.get_by_role("button", name="Search").click()
        expect(main.get_by_role("link", name=ROKI)).to_have_attribute("href", story.get_absolute_url())
        expect(main.get_by_text("2 stories match.")).to_be_visible()
        expect(main.locator(".search-match mark")).to_have_text(["佐々木", "佐々木"])
        expect(main.locator(".search-match").filter(has_text="先発")).to_contain_text("佐々木投手が先発する。")
        assert "新型コロナ" not in main.inner_text()
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        assert not violations, "\n".join(summarize(v) for v in violations)
        page.get_by_role("link", name=ROKI).click()
        expect(page).to_have_url(site.url + story.get_absolute_url())
        expect(page.get_by_role("heading", level=1)).to_have_text(ROKI)
    assert not watch.problems()
