"""Long unbroken words on a phone: no page grows wider than a 360 px screen, whatever the data.

tests/data/e2e/long-words-published.md is imported and published: its headline and excerpt carry
`onerror="alert(document.cookie)">`, a 120-letter word and a long address; its outlet's name, its
outlet's domain and one of its topics are long unbroken words; its coverage rows have long titles
and outlet names (one outlet twice: "+1 more from this outlet"). Every page that shows them must
wrap those words, not scroll sideways nor push text past the screen's edge.
"""

from urllib.parse import urlencode

from playwright.sync_api import expect

from stories.models import Story, Topic
from tests.e2e.conftest import SIZES, screenshot
from tests.e2e.support import LONG_OUTLET, LONG_TOKEN, LONG_TOPIC, LONG_WORD, layout_problems

PHONE = SIZES["phone"]
SHOWN_PROBLEMS = 8  # per page, in the failure message


def test_long_words_wrap_on_a_phone(site, make_context, watch):
    story = Story.objects.select_related("lead__provider").get(lead__title__contains=LONG_WORD)
    assert story.published and LONG_TOKEN in story.lead.title and LONG_TOKEN in story.lead.excerpt
    outlet = story.lead.provider
    assert outlet.name == LONG_OUTLET
    topic = Topic.objects.get(name=LONG_TOPIC)
    covering = story.coverage_items.select_related("article__provider").order_by("-article__quality").first()
    covering_outlet = covering.article.provider
    page = watch.attach(make_context(viewport=PHONE).new_page())

    # name -> (path, text that must show on it: proof the long words are there to wrap)
    pages = {
        "story": (story.get_absolute_url(), LONG_WORD),
        "story by time": (story.get_absolute_url() + "?order=time", LONG_WORD),
        "home": ("/", LONG_WORD),
        "top": ("/?sort=top", LONG_WORD),
        "its long-named topic": (topic.get_absolute_url(), LONG_WORD),
        "topics": ("/topics/", LONG_TOPIC),
        "its outlet": (f"/providers/{outlet.slug}/", LONG_OUTLET),
        "a covering outlet": (f"/providers/{covering_outlet.slug}/", covering_outlet.name),
        "outlets": ("/providers/", LONG_OUTLET),
        "filtered by its outlet and topic": (
            "/?" + urlencode({"provider": outlet.slug, "topic": topic.slug}),
            f"Outlet: {LONG_OUTLET}",
        ),
        "search for the long word": ("/search/?" + urlencode({"q": LONG_WORD}), LONG_WORD),
        "day": (f"/archive/{story.published_at:%Y/%m/%d}/", LONG_WORD),
    }
    failures = {}
    for name, (path, shown) in pages.items():
        response = page.goto(site.url + path)
        assert response.status == 200, f"{name} ({path}): {response.status}"
        expect(page.locator("main").get_by_text(shown).first).to_be_visible()
        width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        # layout_problems: sideways scrolling, boxes sideways scrolling inside, overlaps, and
        # elements or text whose edge is past the screen's.
        problems = ([f"{width}px wide"] if width > PHONE["width"] else []) + layout_problems(page)
        if problems:
            failures[f"{name} ({path})"] = problems[:SHOWN_PROBLEMS]
        if name in ("story", "home", "its outlet", "filtered by its outlet and topic"):
            screenshot(page, f"long-words-{name.replace(' ', '-')}-phone")
    assert not failures, f"pages wider than a {PHONE['width']}px phone: {failures}"

    # The story page shows every long word, wrapped: the headline spans several lines.
    page.goto(site.url + story.get_absolute_url())
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(story.lead.title)
    box = heading.bounding_box()
    assert box["width"] <= PHONE["width"] and box["height"] > 4 * 24, box
    expect(page.locator(".lead-excerpt")).to_have_text(story.lead.excerpt)
    expect(page.locator(".story-header .meta").get_by_role("link", name=LONG_OUTLET, exact=True)).to_be_visible()
    expect(page.locator(".coverage-row .meta").get_by_role("link", name=covering_outlet.name)).to_be_visible()
    expect(page.locator(".coverage-row .more summary")).to_have_text("+1 more from this outlet")
    expect(page.locator(".story-page .tags").get_by_role("link", name=LONG_TOPIC)).to_be_visible()

    assert not watch.problems(), watch.problems()
