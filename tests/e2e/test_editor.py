"""An editor in the admin, in a real browser, under the site's strict Content-Security-Policy.

The editor logs in through the real login form (django-axes is on: only the right password),
publishes the e2e draft with the list action, a visitor (another browser context, not logged
in) then finds it on the home page; the editor unpublishes it, and the visitor gets a 404.
Every admin page is watched for CSP violations (reported by an init script, which the policy
does not block, and by Chromium's console), console errors and uncaught script errors.
"""

import hashlib
import re

from django.core.cache import cache
from playwright.sync_api import expect

from stories.caching import generation
from stories.models import Story
from tests.e2e.support import DRAFT_TITLE, create_editor, log_in

CHANGELIST = "/admin/stories/story/"


def page_is_cached(path):
    """Whether the anonymous page cache holds ``path`` now (its key as stories.caching makes it)."""
    digest = hashlib.blake2b(path.encode(), digest_size=16).hexdigest()
    return cache.get(f"page:{generation()}:{digest}") is not None


def run_action(page, base_url, title, action):
    """Find the story with the list's search box, tick it, run the action; returns the messages."""
    page.goto(f"{base_url}{CHANGELIST}")
    page.locator("#searchbar").fill(title)
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#result_list")).to_contain_text(title)
    checkbox = page.get_by_role("checkbox", name=f"Select this object for an action - {title}")
    checkbox.check()
    expect(page.locator(".action-counter")).to_have_text(re.compile(r"^1 of \d+ selected$"))  # the admin's JS runs
    page.get_by_label("Action:").select_option(label=action)
    page.get_by_role("button", name="Go").click()
    return page.locator(".messagelist li")


def test_editor_publishes_and_unpublishes_a_draft(site, page, make_context, watch, monkeypatch, settings):
    create_editor(monkeypatch, settings)
    # With the anonymous page cache on, as in production: a publish must still show at once.
    settings.PAGE_CACHE_SECONDS = 60
    watch.attach(page)
    draft = Story.objects.get(lead__title=DRAFT_TITLE)
    assert not draft.published
    url = site.url + draft.get_absolute_url()
    outlet_url = f"{site.url}/providers/{draft.lead.provider.slug}/"
    visitor = make_context().new_page()
    watch.attach(visitor)
    watch.expected_404 |= {draft.get_absolute_url(), f"/providers/{draft.lead.provider.slug}/"}

    # A visitor cannot see the draft yet; the home page they got is in the page cache.
    visitor.goto(site.url + "/")
    expect(visitor.get_by_role("link", name=DRAFT_TITLE)).to_have_count(0)
    assert page_is_cached("/")
    assert visitor.goto(url).status == 404
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert visitor.goto(outlet_url).status == 404

    # The editor logs in, is told about the drafts on the home page, previews the draft.
    log_in(page, site.url)
    page.goto(site.url + "/")
    drafts = Story.objects.filter(published=False).count()
    expect(page.locator(".staff-note")).to_contain_text(f"{drafts} drafts are waiting")
    page.goto(url)
    expect(page.locator(".draft-banner")).to_contain_text("Draft: not published.")
    expect(page.get_by_role("heading", level=1)).to_have_text(DRAFT_TITLE)

    # Finds the draft among the drafts and publishes it with the action.
    page.goto(f"{site.url}{CHANGELIST}?published__exact=0")
    expect(page.locator("#result_list")).to_contain_text(DRAFT_TITLE)
    message = run_action(page, site.url, DRAFT_TITLE, "Publish selected stories")
    expect(message).to_have_text("Published 1 story.")
    expect(message).to_have_class(re.compile(r"\bsuccess\b"))
    expect(page.locator("#result_list tr", has_text=DRAFT_TITLE).locator(".field-published_status")).to_have_text("Yes")
    draft.refresh_from_db()
    assert draft.published and draft.editor_decided_at is not None

    # The visitor finds it on the home page at once (no stale cached page or card), opens it, and its outlet.
    visitor.goto(site.url + "/")
    link = visitor.get_by_role("link", name=DRAFT_TITLE, exact=True)
    expect(link).to_be_visible()
    link.click()
    expect(visitor).to_have_url(url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(DRAFT_TITLE)
    expect(visitor.locator(".draft-banner")).to_have_count(0)
    assert visitor.goto(outlet_url).status == 200
    expect(visitor.get_by_role("heading", level=1)).to_have_text(draft.lead.provider.name)
    visitor.goto(site.url + "/topics/")
    expect(visitor.locator(".index-list li", has_text="AI Hardware")).to_contain_text("2 stories")

    # The editor unpublishes it: gone from the home page, 404 at its address, its outlet page gone.
    message = run_action(page, site.url, DRAFT_TITLE, "Unpublish selected stories")
    expect(message).to_have_text("Unpublished 1 story.")
    visitor.goto(site.url + "/")
    expect(visitor.get_by_role("link", name=DRAFT_TITLE)).to_have_count(0)
    assert visitor.goto(url).status == 404
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert visitor.goto(outlet_url).status == 404
    visitor.goto(site.url + "/topics/")
    expect(visitor.locator(".index-list li", has_text="AI Hardware")).to_contain_text("1 story")

    # The story's history names who did what.
    page.goto(f"{site.url}/admin/stories/story/{draft.pk}/history/")
    expect(page.locator("#change-history")).to_contain_text("Published with the “Publish selected stories” action.")
    expect(page.locator("#change-history")).to_contain_text("Unpublished with the “Unpublish selected stories” action.")

    assert not watch.problems(), watch.problems()


def test_admin_works_under_the_csp(site, page, watch, monkeypatch, settings):
    create_editor(monkeypatch, settings)
    watch.attach(page)
    draft = Story.objects.get(lead__title=DRAFT_TITLE)
    responses = []
    page.on("response", lambda response: responses.append(response) if "/admin/" in response.url else None)

    log_in(page, site.url)
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # The story list: its scripts run (select all, the action counter, the filter sidebar).
    page.goto(f"{site.url}{CHANGELIST}")
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    rows = page.locator("#result_list tbody tr").count()
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_have_text(f"{rows} of {rows} selected")
    expect(page.locator("#result_list tbody tr.selected")).to_have_count(rows)
    page.locator("#action-toggle").uncheck()
    expect(page.locator(".action-counter")).to_have_text(f"0 of {rows} selected")
    page.get_by_role("link", name="No", exact=True).first.click()  # the published filter
    expect(page).to_have_url(re.compile(r"published__exact=0"))
    expect(page.locator("#result_list")).to_contain_text(DRAFT_TITLE)

    # The theme switch (admin/js/theme.js) works.
    before = page.evaluate("document.documentElement.dataset.theme || 'auto'")
    page.locator("button.theme-toggle").first.click()
    expect(page.locator("html")).not_to_have_attribute("data-theme", before)

    # The change page: tick Published and save; the story is published.
    page.goto(f"{site.url}/admin/stories/story/{draft.pk}/change/")
    expect(page.get_by_role("heading", level=2, name=DRAFT_TITLE)).to_be_visible()
    page.get_by_label("Published").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    draft.refresh_from_db()
    assert draft.published

    # History and the user's own pages under the same policy.
    page.goto(f"{site.url}/admin/stories/story/{draft.pk}/history/")
    expect(page.locator("#change-history")).to_contain_text("Published on the change page.")
    page.goto(f"{site.url}/admin/password_change/")
    expect(page.get_by_role("heading", name="Password change")).to_be_visible()

    html = [r for r in responses if "text/html" in (r.headers.get("content-type") or "")]
    assert html
    for response in html:
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (response.url, policy)
    assert not watch.problems(), watch.problems()
