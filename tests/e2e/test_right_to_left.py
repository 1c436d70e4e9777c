"""Headlines in right-to-left scripts, and direction controls in headlines, in a real browser.

An Arabic headline reads right to left on its story page and its card. A headline holding
U+202E (RIGHT-TO-LEFT OVERRIDE, which turns every character after it backwards until the end of
the paragraph) turns only itself: the date and quality beside it in "+1 more from this outlet"
still read in their own order.
"""

from itertools import pairwise

from playwright.sync_api import expect

from tests.factories import BASE_TIME, hours, make_provider, make_story

ARABIC_TITLE = "الذكاء الاصطناعي يغير غرف الأخبار"
ARABIC_EXCERPT = "تستخدم المؤسسات الإعلامية أدوات جديدة لكتابة العناوين وترجمة التقارير."
OVERRIDE_TITLE = "Flipped headline \u202etxet sdrawkcab"
OVERRIDE_OUTLET = "Plain Order Outlet"

# Where each visible character of an element's text is drawn: [left, right, top] of each, in text order.
CHARACTER_BOXES = """
(element) => {
  const boxes = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    for (let i = 0; i < text.length; i++) {
      if (/\\s/.test(text.data[i])) continue;
      const range = document.createRange();
      range.setStart(text, i);
      range.setEnd(text, i + 1);
      const box = range.getBoundingClientRect();
      if (box.width > 0) boxes.push([box.left, box.right, Math.round(box.top)]);
    }
  }
  return boxes;
}
"""


def test_right_to_left_headlines_and_direction_controls(site, make_context, watch):
    outlet = make_provider("plain-order.example.com", OVERRIDE_OUTLET)
    story = make_story(
        ARABIC_TITLE,
        lead={"language": "ar", "excerpt": ARABIC_EXCERPT},
        topics=["Newsrooms"],
        coverage=[
            {"title": "Plain coverage", "provider": outlet, "quality": 90},
            {"title": OVERRIDE_TITLE, "provider": outlet, "quality": 10, "published_at": BASE_TIME + hours(3)},
        ],
        published_at=BASE_TIME,
    )
    page = watch.attach(make_context().new_page())
    page.goto(site.url + story.get_absolute_url())

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(ARABIC_TITLE)
    assert heading.evaluate("(h) => getComputedStyle(h).direction") == "rtl"
    # Right to left: the headline's first letter is drawn at its right end.
    boxes = heading.evaluate(CHARACTER_BOXES)
    assert boxes[0][2] == boxes[-1][2] and boxes[0][1] > boxes[-1][1], boxes
    assert page.locator(".lead-excerpt").evaluate("(p) => getComputedStyle(p).direction") == "rtl"

    page.get_by_text("+1 more from this outlet").click()
    other = page.locator(".more li").filter(has_text="txet")
    expect(other.locator("a.external")).to_contain_text(OVERRIDE_TITLE)
    meta = other.locator(".meta")
    expect(meta).to_contain_text("Quality 10")
    # Left to right beside the flipped headline: each character right of the one before.
    boxes = meta.evaluate(CHARACTER_BOXES)
    backwards = [(a, b) for a, b in pairwise(boxes) if a[2] == b[2] and b[0] < a[0]]  # a, b on one line
    assert len(boxes) > 10 and not backwards, f"drawn backwards: {backwards}"

    page.goto(site.url + "/topics/newsrooms/")
    card_link = page.get_by_role("link", name=ARABIC_TITLE)
    assert card_link.evaluate("(a) => getComputedStyle(a).direction") == "rtl"
    assert not watch.problems()
