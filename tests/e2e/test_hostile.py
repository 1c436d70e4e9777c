"""The hostile corpus in a real browser: markup in titles, excerpts and outlet names shows as text, never runs.

tests/data/e2e/hostile-published.md is imported and published: its title carries <script> and
<img onerror>, its excerpt <svg onload>, its outlet's name <i>, one related item a javascript:
URL (the importer drops it) and another a data: picture. On every page that shows it the test
listens for dialogs (alert), console errors, uncaught errors and CSP violations.
"""

import json

from playwright.sync_api import expect

from stories.models import Story
from tests.e2e.support import HOSTILE_EXCERPT, HOSTILE_OUTLET, HOSTILE_TITLE

# Every URL-bearing attribute whose value is a javascript:, vbscript: or data: URL; every
# inline event handler (on...=); every script that is not the site's own file or its JSON-LD.
DANGERS = """
() => {
  const urlAttributes = new Set(["href", "src", "srcset", "action", "formaction", "poster", "data", "cite",
                                 "background", "xlink:href", "ping"]);
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]+/g, "").toLowerCase();
      const isUrl = urlAttributes.has(name) || (el.tagName === "META" && name === "content" &&
        /(image|url)$/.test(el.getAttribute("property") || el.getAttribute("name") || ""));
      if (name.startsWith("on") || (isUrl && /^(javascript|vbscript|data):/.test(value))) {
        found.push(`${el.tagName} ${name}="${attr.value}"`);
      }
    }
  }
  for (const script of document.scripts) {
    const url = script.src ? new URL(script.src) : null;
    const own = url && url.origin === location.origin && url.pathname.startsWith("/static/");
    if (!own && script.type !== "application/ld+json") found.push(`SCRIPT ${script.outerHTML.slice(0, 120)}`);
  }
  for (const tag of ["svg", "iframe", "object", "embed", "b", "i", "em"]) {
    for (const el of document.querySelectorAll(`main ${tag}`)) {
      // The site's own charts (templates/includes/*_chart.html) are the only SVG allowed.
      if (tag === "svg" && el.getAttribute("class") === "chart") continue;
      found.push(`injected <${tag}>: ${el.outerHTML.slice(0, 80)}`);
    }
  }
  return found;
}
"""


def test_hostile_content_never_executes(site, page, watch):
    watch.attach(page)
    story = Story.objects.select_related("lead__provider").get(lead__title=HOSTILE_TITLE)
    assert story.published
    outlet = story.lead.provider
    other = story.coverage_items.select_related("article__provider").get().article
    visited = {
        "home": "/",
        "story": story.get_absolute_url(),
        "story by time": story.get_absolute_url() + "?order=time",
        "its outlet": f"/providers/{outlet.slug}/",
        "the covering outlet": f"/providers/{other.provider.slug}/covered/",
        "topic": story.topics.first().get_absolute_url(),
        "search": "/search/?q=Hostile",
        "filtered by its outlet": f"/?provider={outlet.slug}",
        "outlets": "/providers/",
    }
    for name, path in visited.items():
        response = page.goto(site.url + path)
        assert response.status == 200, f"{name}: {response.status}"
        page.wait_for_load_state("load")
        dangers = page.evaluate(DANGERS)
        assert not dangers, f"{name} ({path}): {dangers}"
        if name != "outlets":
            # The markup is there as text, to read, exactly as written.
            expect(page.get_by_text(HOSTILE_TITLE, exact=True).first).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("A javascript: link that must be dropped")
        assert page.evaluate("typeof window.__cspViolations === 'undefined' || !window.__cspViolations.length")

    # The story page: headline, excerpt, outlet name and <title> are the raw text.
    page.goto(site.url + story.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_TITLE)
    expect(page).to_have_title(f"{HOSTILE_TITLE} · Newsreader")
    expect(page.locator(".lead-excerpt")).to_have_text(HOSTILE_EXCERPT)
    expect(page.locator(".story-header .meta").get_by_role("link", name=HOSTILE_OUTLET, exact=True)).to_be_visible()
    expect(page.locator(".coverage-title")).to_contain_text("Harmless coverage with <em>markup</em> in its title")
    expect(page.locator(".coverage .excerpt")).to_have_text('"><script>alert(4)</script>')
    expect(page.locator('meta[name="description"]')).to_have_attribute("content", HOSTILE_EXCERPT)
    # Its JSON-LD is inert data that parses back to the same text; nothing closes its <script> early.
    jsonld = page.locator('script[type="application/ld+json"]')
    expect(jsonld).to_have_count(1)
    raw = jsonld.text_content()
    assert "</script" not in raw.lower() and "<" not in raw
    data = json.loads(raw)
    assert data["name"] == HOSTILE_TITLE
    urls = [item["item"]["url"] for item in data["mainEntity"]["itemListElement"]]
    assert urls and all(url.startswith("https://") for url in urls), urls
    # No picture at all: the coverage item's data: picture is never shown.
    expect(page.locator("main img")).to_have_count(0)

    # The outlet page: its name as text in the heading.
    page.goto(f"{site.url}/providers/{outlet.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_OUTLET)
    # The filter form's outlet options carry the name as text too.
    page.goto(site.url + "/")
    options = page.locator("#id_provider option").all_text_contents()
    assert HOSTILE_OUTLET in options

    assert not watch.problems(), watch.problems()
