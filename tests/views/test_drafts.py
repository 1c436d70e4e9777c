"""Drafts: invisible to visitors on every page and feed, shown to staff with a banner and never cached."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import make_story
from tests.views.helpers import html, page, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("staff", "staff@example.com", "x-not-a-password-1", is_staff=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_drafts_are_invisible_to_visitors_everywhere(client, draft):
    make_story("Published neighbour", topics=["AI"], provider=draft.lead.provider)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(f"/story/{draft.pk}/").status_code == 404
    assert client.get(f"/story/{draft.pk}-other-slug/").status_code == 404
    provider = draft.lead.provider.slug
    for url in [
        "/",
        "/?sort=top",
        "/topics/",
        "/topics/ai/",
        "/providers/",
        f"/providers/{provider}/",
        "/search/?q=quantum",
        "/search/?q=secret+draft",
        "/archive/2024/05/01/",
        "/sitemap-stories.xml",
        "/feeds/latest.rss",
        "/feeds/topics/ai.atom",
        f"/feeds/providers/{provider}.rss",
        "/feeds/search.rss?q=quantum",
    ]:
        body = client.get(url).content.decode()  # the whole response, markup and all: nothing of the draft
        assert "Secret draft" not in body and "Draft coverage item" not in body, url
        assert "never-shown-secured-value" not in body, url
        assert f"/story/{draft.pk}-" not in body, url
    assert "1 story on this topic" in text(client.get("/topics/ai/"))


def test_drafts_do_not_count(client, draft):
    assert client.get("/topics/ai/").status_code == 404  # its only story is a draft
    assert not page(client.get("/topics/")).find_all(href="/topics/ai/")
    assert client.get(f"/providers/{draft.lead.provider.slug}/").status_code == 404


def test_staff_see_a_draft_with_a_banner_an_admin_link_and_no_caching(staff_client, draft):
    response = staff_client.get(draft.get_absolute_url())
    shown = page(response)
    assert "Draft: not published." in shown.text and "Secret draft about quantum chips" in shown.text
    assert shown.find("a", href=reverse("admin:stories_story_change", args=[draft.pk]))
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control
    assert "never-shown-secured-value" not in html(response)
    redirect = staff_client.get(f"/story/{draft.pk}-old-slug/")
    assert redirect.status_code == 301 and "no-store" in redirect["Cache-Control"]


def test_staff_see_published_stories_with_an_edit_link_uncached(staff_client):
    story = make_story("Published story")
    response = staff_client.get(story.get_absolute_url())
    shown = page(response)
    assert "Draft: not published" not in shown.text and "Edit this story in the admin" in shown.text
    assert shown.find("a", text="Edit this story in the admin").get("href") == reverse(
        "admin:stories_story_change", args=[story.pk]
    )
    assert "no-store" in response["Cache-Control"]


def test_staff_do_not_see_drafts_in_lists(staff_client, draft):
    response = staff_client.get("/")
    assert "Secret draft" not in html(response)
    shown = page(response)
    assert "1 draft is waiting" in shown.text
    assert shown.find("a", href="/admin/stories/story/?published__exact=0")


def test_visitors_get_no_draft_notice(client, draft):
    make_story("Published")
    assert "draft" not in text(client.get("/")).lower()
