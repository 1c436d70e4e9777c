"""Story.objects.visible_to(): what a request may see, the one rule of pages, feeds and sitemaps."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from stories.models import Story
from tests.factories import make_story

pytestmark = pytest.mark.django_db


@pytest.fixture
def stories():
    return make_story("Published"), make_story("Draft", published=False)


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("editor", password="x", is_staff=True)


def titles(queryset):
    return sorted(story.lead.title for story in queryset.select_related("lead"))


def test_readers_see_published_stories_only(stories):
    assert titles(Story.objects.visible_to(AnonymousUser())) == ["Published"]
    assert titles(Story.objects.visible_to(AnonymousUser(), preview=True)) == ["Published"]


def test_staff_see_drafts_on_a_preview_only(stories, staff):
    assert titles(Story.objects.visible_to(staff)) == ["Published"]  # lists, feeds, search, sitemaps
    assert titles(Story.objects.visible_to(staff, preview=True)) == ["Draft", "Published"]  # a story's own page


def test_a_signed_in_reader_who_is_not_staff_sees_no_draft(stories):
    reader = get_user_model().objects.create_user("reader", password="x")
    assert titles(Story.objects.visible_to(reader, preview=True)) == ["Published"]


def test_the_user_is_not_loaded_unless_a_draft_could_be_shown(stories):
    def load_user():
        raise AssertionError("the user was loaded")

    # request.user is lazy: a list page must not spend a session query on it.
    assert titles(Story.objects.visible_to(SimpleLazyObject(load_user))) == ["Published"]


def test_visible_to_narrows_a_queryset_already_filtered(stories, staff):
    published, draft = stories
    narrowed = Story.objects.filter(pk=draft.pk).visible_to(staff, preview=True)
    assert list(narrowed) == [draft]
    assert not Story.objects.filter(pk=draft.pk).visible_to(staff).exists()
    assert list(Story.objects.filter(pk=published.pk).visible_to(AnonymousUser())) == [published]
