"""A visitor in a real browser: the reading journey, the keyboard, small and large screens."""

import re

import pytest
from playwright.sync_api import expect

from stories.models import Story, Topic
from tests.e2e.conftest import SIZES
from tests.e2e.support import DRAFT_TITLE, layout_problems, reference_pages

PER_PAGE = 10  # the bundled data has fewer published stories than a real page (30): page by 10 instead


def card_titles(page):
    """The headlines of the cards on the page, read once it has loaded.

    Call it after an assertion that waits for the new URL: until then the old page may still be there.
    """
    page.wait_for_load_state()
    return page.locator("article.story .story-link").all_inner_texts()


def expect_cards(page, titles):
    """Wait until the cards show exactly these headlines (a click's navigation may not have finished)."""
    expect(page.locator("article.story .story-link")).to_have_text(titles)


def test_visitor_journey(site, page, watch, monkeypatch):
    monkeypatch.setattr("stories.views.PER_PAGE", PER_PAGE)
    watch.attach(page)
    published = Story.objects.published().count()
    assert published > 2 * PER_PAGE
    story = (
        Story.objects.published()
        .filter(coverage_count__gt=0)
        .exclude(lead__provider__domain__endswith="example.com")
        .select_related("lead__provider")
        .order_by("-published_at", "-id")
        .first()
    )
    coverage = story.coverage_items.select_related("article__provider").first().article

    # Home: the latest stories, newest first, one page of them; no draft.
    page.goto(site.url + "/")
    expect(page).to_have_title("Latest stories · Newsreader")
    expect(page.get_by_role("heading", level=1)).to_have_text("Latest stories")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Latest")).to_have_attribute(
        "aria-current", "page"
    )
    first_page = card_titles(page)
    assert len(first_page) == PER_PAGE
    newest = Story.objects.published().select_related("lead").order_by("-published_at", "-id")[:PER_PAGE]
    assert first_page == [s.lead.title for s in newest]
    assert DRAFT_TITLE not in page.content()
    expect(page.locator(".day-heading").first).to_be_visible()
    expect(page.get_by_role("link", name="Newer stories")).to_have_count(0)

    # Page forward, and back: each page holds new stories; going back shows the same page again.
    pages = [first_page]
    while story.lead.title not in pages[-1]:
        page.get_by_role("link", name="Older stories").click()
        expect(page).to_have_url(re.compile(r"\?after="))
        pages.append(card_titles(page))
        assert pages[-1] and not set(pages[-1]) & {title for seen in pages[:-1] for title in seen}
        assert len(pages) <= published // PER_PAGE + 1
    assert len(pages) >= 2
    page.get_by_role("link", name="Newer stories").click()
    expect(page).to_have_url(re.compile(r"\?before="))
    expect_cards(page, pages[-2])
    page.get_by_role("link", name="Older stories").click()
    expect(page).to_have_url(re.compile(r"\?after="))
    expect_cards(page, pages[-1])
    expect(page.locator('meta[name="robots"]')).to_have_attribute("content", "noindex, follow")

    # Open a story: its headline, its outlet, its coverage (by quality first).
    page.get_by_role("link", name=story.lead.title, exact=True).click()
    expect(page).to_have_url(site.url + story.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(story.lead.title)
    expect(page.locator(".story-header .meta")).to_contain_text(story.lead.provider.name)
    read = re.compile(f"^Read the full article at {re.escape(story.lead.provider.name)}")
    expect(page.get_by_role("link", name=read)).to_have_attribute("href", story.lead.web_url)
    rows = page.locator(".coverage-row")
    expect(rows).to_have_count(story.outlet_count - 1)
    expect(page.get_by_role("heading", name=re.compile(r"^Reported by \d+ outlet"))).to_be_visible()
    expect(rows.first.locator(".coverage-title")).to_contain_text(coverage.title)
    expect(rows.first.locator(".lag")).to_have_text(re.compile(r"(earlier|later|same time)"))
    expect(rows.first.locator(".quality")).to_have_text(f"Quality {coverage.quality}")
    expect(page.get_by_role("link", name="By quality")).to_have_attribute("aria-current", "true")

    # Switch the order: by time, who reported first, with the headline article in the timeline.
    page.get_by_role("link", name="By time: who reported first").click()
    expect(page).to_have_url(re.compile(r"\?order=time$"))
    expect(page.get_by_role("link", name="By time: who reported first")).to_have_attribute("aria-current", "true")
    expect(page.locator(".note").filter(has_text="First to report:")).to_be_visible()
    expect(page.locator(".timeline-lead")).to_contain_text("Headline article")
    expect(page.locator(".timeline > li")).to_have_count(story.outlet_count)
    page.get_by_role("link", name="By quality").click()
    expect(page).to_have_url(site.url + story.get_absolute_url())

    # Follow an outlet to its page: the stories it led and the ones it covered.
    provider = coverage.provider
    rows.first.locator(".meta").get_by_role("link", name=provider.name).click()
    expect(page).to_have_url(f"{site.url}/providers/{provider.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(provider.name)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Outlets")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("heading", name=f"Stories {provider.name} led")).to_be_visible()
    tabs = page.get_by_role("navigation", name=f"Stories of {provider.name}")
    tabs.get_by_role("link", name="Stories it covered").click()
    expect(page).to_have_url(f"{site.url}/providers/{provider.slug}/covered/")
    expect(page.locator("main article.story .story-link").filter(has_text=story.lead.title)).to_have_count(1)

    # Open a topic from a card: every story there carries it.
    tag = page.locator("article.story .tags a").first
    topic = Topic.objects.get(slug=tag.get_attribute("href").strip("/").split("/")[-1])
    tag.click()
    expect(page).to_have_url(f"{site.url}/topics/{topic.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(topic.name)
    topic.refresh_from_db()
    expect(page.locator(".page-head .note")).to_contain_text(f"{topic.story_count} stor")
    cards = page.locator("article.story")
    expect(cards).to_have_count(min(topic.story_count, PER_PAGE))
    for card in cards.all():
        expect(card.locator(".tags").get_by_role("link", name=topic.name, exact=True)).to_be_visible()

    # Search for a word from the header: the matching stories, and nothing for a draft's words.
    page.get_by_role("searchbox", name="Search stories").fill("Azure")
    page.get_by_role("searchbox", name="Search stories").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=Azure$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search: “Azure”")
    found = card_titles(page)
    assert found and any("Azure" in title for title in found), found
    expect(page.get_by_label("Words to find in the headlines and excerpts")).to_have_value("Azure")
    page.get_by_label("Words to find in the headlines and excerpts").fill("quantum accelerator")
    page.get_by_label("Words to find in the headlines and excerpts").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search: “quantum accelerator”")
    expect(page.locator("main .empty")).to_contain_text("No story holds all these words")
    expect(page.locator("article.story")).to_have_count(0)

    # Apply a filter on the home page, then clear it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Latest").click()
    filtered = Topic.objects.filter(story_count__gt=1, story_count__lt=PER_PAGE).order_by("-story_count").first()
    expect(page.get_by_label("Topic", exact=True)).not_to_be_visible()  # folded until asked for
    page.get_by_text("Filter stories").click()
    page.get_by_label("Topic", exact=True).select_option(label=filtered.name)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(f"topic={filtered.slug}"))
    chip = page.locator(".chip")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text(f"Topic: {filtered.name}")
    expect(page.locator("article.story")).to_have_count(filtered.story_count)
    for card in page.locator("article.story").all():
        expect(card.locator(".tags").get_by_role("link", name=filtered.name, exact=True)).to_be_visible()
    page.get_by_role("link", name=f"Remove the filter Topic: {filtered.name}").click()
    expect(page).to_have_url(site.url + "/")  # the empty fields of the form go with the filter
    expect(page.locator(".chip")).to_have_count(0)
    expect_cards(page, first_page)
    page.get_by_text("Filter stories").click()
    page.get_by_label("Topic", exact=True).select_option(label=filtered.name)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".chip")).to_have_count(1)
    page.get_by_role("link", name="Clear all filters").click()
    expect(page).to_have_url(site.url + "/")
    expect(page.locator(".chip")).to_have_count(0)
    expect_cards(page, first_page)

    assert not watch.problems(), watch.problems()


# --- the keyboard ------------------------------------------------------------------

# The focusable elements of the page in DOM order, each tagged with its index.
FOCUSABLES = """
() => {
  const selector = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), '
    + 'select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  const list = [...document.querySelectorAll(selector)].filter(
    (el) => el.getClientRects().length > 0 && el.checkVisibility({ visibilityProperty: true }) && !el.closest("[inert]")
  );
  list.forEach((el, index) => (el.dataset.e2eIndex = String(index)));
  return list.map((el) => (el.textContent || el.getAttribute("aria-label") || el.name || "").trim().slice(0, 60));
}
"""

FOCUSED = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    index: el.dataset.e2eIndex === undefined ? null : Number(el.dataset.e2eIndex),
    text: (el.textContent || el.getAttribute("aria-label") || el.id || el.tagName).trim().slice(0, 60),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    shadow: style.boxShadow !== "none",
    focusVisible: el.matches(":focus-visible"),
  };
}
"""

TAB_STOPS = 30


@pytest.mark.parametrize("name", ["home", "story"])
def test_keyboard_tab_order_and_visible_focus(site, page, name):
    path = reference_pages()[name]
    page.goto(site.url + path)
    focusables = page.evaluate(FOCUSABLES)
    assert len(focusables) > 10

    # The skip link comes first, shows itself on focus, and moves focus to the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport(ratio=1)
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    first_in_main = page.evaluate("() => [...document.querySelectorAll('main [data-e2e-index]')][0].dataset.e2eIndex")
    assert page.evaluate(FOCUSED)["index"] == int(first_in_main)

    # From the top: Tab visits the focusable elements in DOM order, each with a visible focus ring.
    page.goto(site.url + path)
    page.evaluate(FOCUSABLES)
    stops = []
    for _ in range(min(TAB_STOPS, len(focusables))):
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_be_in_viewport()  # scrolled to, or slid in (the skip link)
        stops.append(page.evaluate(FOCUSED))
    order = [stop["index"] for stop in stops]
    assert order == list(range(len(stops))), [(stop["index"], stop["text"]) for stop in stops]
    for stop in stops:
        assert stop["focusVisible"] and (stop["outline"] or stop["shadow"]), f"no visible focus on {stop}"
    texts = [stop["text"] for stop in stops]
    nav = [texts.index(label) for label in ("Latest", "Top", "Topics", "Outlets")]
    assert nav == sorted(nav) and nav[0] > texts.index("Skip to main content")
    assert texts.index("Search") > nav[-1]  # then the header's search, then the page


def test_keyboard_shortcuts(site, page):
    page.goto(site.url + "/")
    stories = page.locator("article.story")
    links = page.locator("article.story .story-link")

    # j and k move between stories, the selected one is marked and focused.
    page.keyboard.press("j")
    expect(stories.nth(0)).to_have_class(re.compile(r"\bis-selected\b"))
    expect(stories.nth(0)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(stories.nth(2)).to_be_focused()
    expect(page.locator(".is-selected")).to_have_count(1)
    page.keyboard.press("k")
    expect(stories.nth(1)).to_be_focused()
    expect(stories.nth(1)).to_have_class(re.compile(r"\bis-selected\b"))
    shadow = stories.nth(1).evaluate("el => getComputedStyle(el).boxShadow")
    assert shadow != "none"

    # o opens the selected story.
    second = links.nth(1).get_attribute("href")
    page.keyboard.press("o")
    expect(page).to_have_url(site.url + second)

    # Enter opens the selected story too.
    expect(page.locator(".story-page")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(site.url + "/")
    first = links.nth(0).get_attribute("href")
    page.keyboard.press("j")
    expect(stories.nth(0)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(site.url + first)

    # Typing in a field never triggers a shortcut.
    page.goto(site.url + "/")
    search = page.get_by_role("searchbox", name="Search stories")
    search.click()
    page.keyboard.type("jko")
    expect(search).to_have_value("jko")
    expect(page.locator(".is-selected")).to_have_count(0)
    expect(page).to_have_url(site.url + "/")

    # ? shows the help, Escape closes it; the footer button shows it too.
    page.evaluate("document.activeElement.blur()")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Next story or coverage item")
    page.keyboard.press("j")  # shortcuts sleep while the help is open
    expect(page.locator(".is-selected")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.get_by_role("button", name="Show keyboard shortcuts").click()
    expect(help_dialog).to_be_visible()
    help_dialog.get_by_role("button", name="Close").click()
    expect(help_dialog).to_be_hidden()

    # The toggle turns them off, for good (localStorage), and on again.
    toggle = page.get_by_role("button", name=re.compile(r"^Keyboard shortcuts: "))
    expect(toggle).to_have_text("Keyboard shortcuts: on")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(toggle).to_have_text("Keyboard shortcuts: off")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    page.keyboard.press("?")
    expect(page.locator(".is-selected")).to_have_count(0)
    expect(help_dialog).to_be_hidden()
    page.reload()
    expect(toggle).to_have_text("Keyboard shortcuts: off")
    page.keyboard.press("j")
    expect(page.locator(".is-selected")).to_have_count(0)
    toggle.click()
    expect(toggle).to_have_text("Keyboard shortcuts: on")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    expect(stories.nth(0)).to_have_class(re.compile(r"\bis-selected\b"))

    # On a story page j walks the coverage rows.
    page.goto(site.url + reference_pages()["story"])
    page.keyboard.press("j")
    expect(page.locator(".coverage-row").first).to_be_focused()
    expect(page.locator(".coverage-row").first).to_have_class(re.compile(r"\bis-selected\b"))


# --- small and large screens ---------------------------------------------------------


@pytest.mark.parametrize("size", list(SIZES))
def test_layout_no_horizontal_scroll_or_overlap(site, make_context, size):
    context = make_context(viewport=SIZES[size])
    page = context.new_page()
    failures = {}
    pages = reference_pages()
    pages["top"] = "/?sort=top"
    pages["story by time"] = pages["story"] + "?order=time"
    pages["filtered"] = "/?topic=ai&provider=forbes-com"
    for name, path in pages.items():
        page.goto(site.url + path)  # with filters applied, the filter form is open
        problems = layout_problems(page)
        if problems:
            failures[f"{name} ({path})"] = problems
    assert not failures, f"layout problems at {size} {SIZES[size]}: {failures}"
