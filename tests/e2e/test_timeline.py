"""The pictures of the coverage in a real browser: the story's SVG timeline and the weekly charts.

The timeline must have its accessible name, one mark per outlet (stacked, never on top of one
another), labels that do not touch, fit a 360 px phone without sideways scrolling, stay inside the
CSP, and pass axe with no violation of any impact, in light and in dark.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from stories.models import Provider, Story, Topic
from tests.e2e.conftest import SCREENSHOTS, SIZES
from tests.e2e.test_accessibility import AXE_OPTIONS, summarize

axe = Axe()

# Every pair of elements of one kind whose boxes overlap by more than a pixel each way.
OVERLAPS = """
(selector) => {
  const boxes = [...document.querySelectorAll(selector)].map((el) => el.getBoundingClientRect());
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) found.push([i, j, Math.round(w), Math.round(h)]);
    }
  }
  return found;
}
"""


def busiest_story():
    """The story with the most outlets (a seed's: published here if a draft), and its outlets."""
    story = Story.objects.filter(coverage_count__gt=0).order_by("-outlet_count", "-id").first()
    assert story is not None and story.outlet_count >= 10, "the bundled seeds no longer hold a widely covered story"
    if not story.published:  # the page is what is under test, not the editors' choice
        Story.objects.filter(pk=story.pk).update(published=True)
    covering = set(story.coverage_items.values_list("article__provider_id", flat=True))
    return story, covering


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_story_timeline_is_accessible_and_fits(site, make_context, watch, scheme, size):
    story, covering = busiest_story()
    lead_outlet = story.lead.provider.name
    page = watch.attach(make_context(viewport=SIZES[size], color_scheme=scheme).new_page())
    for path in [story.get_absolute_url(), story.get_absolute_url() + "?order=time"]:
        response = page.goto(site.url + path)
        assert response.status == 200, path
        chart = page.get_by_role("img", name=re.compile(r"^\d+ outlets reported this (at|between) .+ UTC.*; first: "))
        expect(chart).to_be_visible()
        expect(chart).to_have_accessible_description(
            re.compile(f"the diamond is the headline article, {re.escape(lead_outlet)}")
        )
        expect(chart.locator("circle.chart-mark")).to_have_count(len(covering))
        expect(chart.locator("path.chart-mark")).to_have_count(1)

        box = chart.bounding_box()
        width = page.evaluate("document.documentElement.clientWidth")
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (box, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        assert page.evaluate(OVERLAPS, ".timeline-chart .chart-mark") == []  # stacked, each one visible
        assert page.evaluate(OVERLAPS, ".timeline-chart text") == []  # no label over another
        if size == "phone":
            label = chart.locator("text").first.bounding_box()
            assert label["height"] >= 9, label  # still readable when the chart is scaled down

        colours = page.evaluate(
            """() => [".mark-coverage.chart-mark", ".mark-lead.chart-mark", ".chart-label"].map(
                 (s) => getComputedStyle(document.querySelector(".timeline-chart " + s)).fill)"""
        )
        assert len(set(colours)) == 3 and "rgb(0, 0, 0)" not in colours, colours  # the classes' colours apply

        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        assert not violations, f"axe, {size} {scheme}, {path}:\n" + "\n".join(map(summarize, violations))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # the chart alone, for a reviewer to look at
    page.locator(".timeline-chart").screenshot(path=str(SCREENSHOTS / f"timeline-chart-{size}-{scheme}.png"))
    assert not watch.problems(), watch.problems()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_weekly_charts_are_accessible_and_fit_a_phone(site, make_context, watch, scheme):
    topic = Topic.objects.filter(story_count__gt=0).order_by("-story_count", "name").first()
    outlet = Provider.objects.filter(led_count__gt=0, covered_count__gt=0).order_by("name").first()
    page = watch.attach(make_context(viewport=SIZES["phone"], color_scheme=scheme).new_page())
    for path in [topic.get_absolute_url(), f"/providers/{outlet.slug}/", f"/providers/{outlet.slug}/covered/"]:
        assert page.goto(site.url + path).status == 200, path
        chart = page.get_by_role("img", name=re.compile(r"^Stories per week, the 52 weeks to the week of "))
        expect(chart).to_be_visible()
        expect(chart).to_have_accessible_description(re.compile(r"^\d+ stor(y|ies) in all; the busiest week was"))
        assert chart.locator("rect.chart-bar").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES["phone"]["width"]
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        assert not violations, f"axe, {scheme}, {path}:\n" + "\n".join(map(summarize, violations))
        name = "topic" if path.startswith("/topics/") else "outlet"
        page.locator(".weekly-chart").screenshot(path=str(SCREENSHOTS / f"weekly-chart-{name}-{scheme}.png"))
    assert not watch.problems(), watch.problems()
