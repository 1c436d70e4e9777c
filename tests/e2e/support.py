"""Helpers shared by the browser tests: the reference pages, a watch on what a page reports, layout checks."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.management import call_command

from stories.models import Provider, Story, Topic

EDITOR = "ed"
EDITOR_PASSWORD = "Quantum-Editor-Pass-2024!"
DRAFT_TITLE = "Editors publish this draft about quantum accelerator chips"
HOSTILE_TITLE = "<script>alert('title')</script> Hostile headline <img src=x onerror=alert(1)>"
HOSTILE_EXCERPT = (
    'An excerpt with <svg onload=alert(2)> markup and a "quoted" <b>bold</b> word; it must render as text.'
)
HOSTILE_OUTLET = "<i>Hostile</i> Outlet"
# tests/data/e2e/long-words-published.md: long unbroken words in its headline, excerpt, outlet and topic.
LONG_WORD = (
    "PneumonoultramicroscopicsilicovolcanoconiosisAntidisestablishmentarianism"
    "FloccinaucinihilipilificationHippopotomonstrose"
)
LONG_TOKEN = 'onerror="alert(document.cookie)">'
LONG_OUTLET = "TheInternationalUnbrokenWordBroadcastingCorporationAndNewsServiceOfVeryLongOutletNamesWithoutSpaces"
LONG_TOPIC = "Supercalifragilisticexpialidociousmachinelearningresearchwithoutanyspacesatallinitsname"


def reference_pages():
    """The pages every check visits, name -> path, chosen from the imported data (not hard-coded ids)."""
    story = (
        Story.objects.published()
        .filter(coverage_count__gt=0, image__isnull=False)
        .exclude(lead__provider__domain__endswith="example.com")
        .order_by("-published_at", "-id")
        .first()
    )
    topic = Topic.objects.filter(story_count__gt=0).order_by("-story_count", "name").first()
    provider = Provider.objects.filter(led_count__gt=0, covered_count__gt=0).order_by("name").first()
    assert story and topic and provider, "the bundled seeds no longer hold the stories these tests need"
    return {
        "home": "/",
        "story": story.get_absolute_url(),
        "topics": "/topics/",
        "topic": topic.get_absolute_url(),
        "providers": "/providers/",
        "provider": f"/providers/{provider.slug}/",
        "provider covered": f"/providers/{provider.slug}/covered/",
        "year": f"/archive/{story.published_at:%Y}/",
        "month": f"/archive/{story.published_at:%Y/%m}/",
        "day": f"/archive/{story.published_at:%Y/%m/%d}/",
        "story by time, an outlet muted": f"{story.get_absolute_url()}?order=time&mute={provider.slug}",
        "search": "/search/?q=machine",
        "404": "/no-such-page/",
    }


def create_editor(monkeypatch, settings):
    """The editor account, made by the real command (the password from the environment, as documented)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # real logins, minus the wait
    monkeypatch.setenv("DJANGO_EDITOR_PASSWORD", EDITOR_PASSWORD)
    call_command("create_editor", EDITOR, "--no-input", verbosity=0)
    assert get_user_model().objects.get(username=EDITOR).groups.filter(name="Editors").exists()


def log_in(page, base_url):
    """Log the editor in through the real admin login form (always the right password: axes is on)."""
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(EDITOR)
    page.get_by_label("Password").fill(EDITOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/admin/")


# --- what a page reports -------------------------------------------------------

# Runs before any script of every document (Playwright's init scripts are not subject
# to the page's CSP). Reports each CSP violation to Python, and keeps it on window too.
CSP_RECORDER = """
(() => {
  const record = (event) => {
    const violation = {
      directive: event.violatedDirective,
      blocked: event.blockedURI,
      sample: event.sample,
      source: event.sourceFile,
      line: event.lineNumber,
      page: location.href,
    };
    (window.__cspViolations = window.__cspViolations || []).push(violation);
    if (typeof window.__e2eCspViolation === "function") {
      window.__e2eCspViolation(violation);
    }
  };
  document.addEventListener("securitypolicyviolation", record, true);
})();
"""


@dataclass
class Watch:
    """Dialogs, console errors, uncaught exceptions and CSP violations of the pages it watches."""

    origin: str
    dialogs: list = field(default_factory=list)
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    csp_violations: list = field(default_factory=list)
    expected_404: set = field(default_factory=set)

    def attach(self, page):
        page.on("dialog", self._on_dialog)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.expose_function("__e2eCspViolation", self._on_csp_violation)
        page.add_init_script(CSP_RECORDER)
        return page

    def _on_csp_violation(self, violation):
        self.csp_violations.append(violation)

    def _on_dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_console(self, message):
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource"):
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                return  # an outlet's picture: the browser tests never reach other hosts
            if parts.path == "/favicon.ico" or parts.path in self.expected_404:
                return  # the admin's pages name no icon, so Chromium asks for /favicon.ico
        self.console_errors.append(f"{message.text} ({url})")

    def problems(self):
        return {
            name: values
            for name, values in (
                ("dialogs", self.dialogs),
                ("console errors", self.console_errors),
                ("page errors", self.page_errors),
                ("CSP violations", self.csp_violations),
            )
            if values
        }


# --- layout --------------------------------------------------------------------

# Groups of elements that must not overlap one another; each group is checked pairwise.
# Returns the overlapping pairs, the elements and the text (a long word) that stick out of the
# viewport sideways, the boxes in main that scroll sideways inside (a table too wide for a phone),
# and the page's width.
LAYOUT_PROBLEMS = """
() => {
  const groups = [
    [".site-header", "main", ".site-footer"],
    [".brand", ".main-nav li", ".site-search"],
    [".page-head > *", ".filters", ".chips", ".story-list", "section.day", ".pagination"],
    [".story"],
    [".coverage-row"],
    [".story-main", ".related"],
    [".primary", ".secondary"],
    [".story-link", ".thumb"],
    [".story-title", ".story .meta", ".story .excerpt", ".story .covered", ".story .tags"],
    [".toggle a"],
    [".tags a"],
    [".footer-links li"],
    [".pagination li"],
  ];
  const name = (el) =>
    el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
    (el.textContent ? ` "${el.textContent.trim().replace(/\\s+/g, " ").slice(0, 40)}"` : "");
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && el.checkVisibility({ visibilityProperty: true, opacityProperty: true });
  };
  const overlaps = [];
  for (const group of groups) {
    const els = [...new Set(group.flatMap((sel) => [...document.querySelectorAll(sel)]))].filter(shown);
    for (let i = 0; i < els.length; i++) {
      for (let j = i + 1; j < els.length; j++) {
        const a = els[i], b = els[j];
        if (a.contains(b) || b.contains(a)) continue;
        const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
        const w = Math.min(r.right, s.right) - Math.max(r.left, s.left);
        const h = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
        if (w > 1 && h > 1) overlaps.push(`${name(a)} overlaps ${name(b)} (${Math.round(w)}x${Math.round(h)}px)`);
      }
    }
  }
  const width = document.documentElement.clientWidth;
  const sticking = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".visually-hidden, dialog:not([open]), .skip-link")) continue;
    if (el.parentElement.closest(".table-wrap")) continue;  // its frame is checked: scrollers
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && (r.right > width + 1 || r.left < -1)) {
      sticking.push(`${name(el)}: ${Math.round(r.left)}..${Math.round(r.right)}px`);
    }
  }
  // Text itself past the viewport's sides (a long word overflowing its box, clipped or not).
  const textPast = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const parent = node.parentElement;
    if (parent.closest(".visually-hidden, dialog:not([open]), .skip-link, .table-wrap, select")) continue;
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    const out = rects.find((r) => r.right > width + 1 || r.left < -1);
    if (out) {
      const text = node.textContent.trim().slice(0, 40);
      textPast.push(`text "${text}": ${Math.round(out.left)}..${Math.round(out.right)}px`);
    }
  }
  const scrollers = [...document.querySelectorAll("main *")]
    .filter((el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX) && el.scrollWidth > el.clientWidth + 1)
    .map((el) => `${name(el).slice(0, 60)}: ${el.scrollWidth}px of content in ${el.clientWidth}px`);
  return {
    scrollers,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    horizontalScroll: document.documentElement.scrollWidth > window.innerWidth,
    overlaps,
    sticking: sticking.slice(0, 20),
    textPast: textPast.slice(0, 20),
  };
}
"""


def layout_problems(page):
    """What is wrong with the page's layout: [] when there is no horizontal scrolling and no overlap."""
    result = page.evaluate(LAYOUT_PROBLEMS)
    problems = []
    if result["horizontalScroll"]:
        problems.append(f"horizontal scrolling: {result['scrollWidth']}px of content in {result['innerWidth']}px")
    problems += [f"scrolls sideways inside: {item}" for item in result["scrollers"]]
    problems += result["overlaps"] + [f"past the viewport: {item}" for item in result["sticking"] + result["textPast"]]
    return problems
