"""Anonymous pages are cached whole, and become fresh at once when content changes.

Run with the default local-memory cache and, when TEST_REDIS_URL names a Redis
server (.ci/run starts one), with Django's RedisCache as in production.
"""

import os

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, override_settings

from stories.models import Story
from tests.factories import make_story, write_document

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("TEST_REDIS_URL")
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "caching-tests"}}
# One Redis database per test process: cache.clear() flushes a whole database.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_LOCATION = f"{REDIS_URL.rsplit('/', 1)[0]}/{WORKER + 1}" if REDIS_URL else ""
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_LOCATION}}


@pytest.fixture(params=["locmem", "redis"])
def page_cache(request, settings):
    if request.param == "redis" and not REDIS_URL:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("TEST_REDIS_URL is not set: .ci/run should start Redis")
        pytest.skip("no Redis server: set TEST_REDIS_URL=redis://127.0.0.1:6379/0 to run the Redis cache tests")
    settings.PAGE_CACHE_SECONDS = 300
    with override_settings(CACHES=LOCMEM if request.param == "locmem" else REDIS):
        cache.clear()
        yield request.param
        cache.clear()


def editor_client():
    editor = User.objects.create_user("editor", password="a-long-editor-password-1", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(editor)  # the real login form is tested in test_admin.py
    return client


def run_action(client, action, story, on_commit):
    # The admin tells the caches once its transaction commits; the test's own
    # transaction never does, so its on-commit callbacks are run by hand.
    with on_commit(execute=True):
        response = client.post(
            "/admin/stories/story/", {"action": action, "_selected_action": [story.pk], "index": 0}, follow=True
        )
    assert response.status_code == 200


def test_an_anonymous_page_is_served_from_the_cache(client, page_cache, django_assert_num_queries):
    make_story("Cached headline")
    first = client.get("/")
    assert "Cached headline" in first.content.decode()
    with django_assert_num_queries(0):
        second = client.get("/")
    assert second.content == first.content


def test_publish_and_unpublish_show_on_the_next_request(client, page_cache, django_capture_on_commit_callbacks):
    make_story("Already public story")
    draft = make_story("Freshly published story", published=False)
    assert "Freshly published story" not in client.get("/").content.decode()  # now cached without it

    editor = editor_client()
    run_action(editor, "publish_stories", draft, django_capture_on_commit_callbacks)
    assert "Freshly published story" in client.get("/").content.decode()
    assert client.get(draft.get_absolute_url()).status_code == 200

    run_action(editor, "unpublish_stories", draft, django_capture_on_commit_callbacks)
    assert "Freshly published story" not in client.get("/").content.decode()
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert "Freshly published story" not in client.get("/feeds/latest.rss").content.decode()


def test_a_reimport_shows_on_the_next_request(client, page_cache, tmp_path):
    doc = tmp_path / "doc.md"
    write_document(doc, "First version of the headline")
    call_command("import_stories", str(doc), verbosity=0)
    story = Story.objects.get()
    assert "First version of the headline" in client.get("/").content.decode()
    assert "First version of the headline" in client.get(story.get_absolute_url()).content.decode()

    write_document(doc, "Second version of the headline")
    call_command("import_stories", str(doc), verbosity=0)
    assert "Second version of the headline" in client.get("/").content.decode()
    page = client.get(story.get_absolute_url(), follow=True).content.decode()
    assert "Second version of the headline" in page


def test_staff_pages_are_neither_cached_nor_served_from_the_cache(client, page_cache):
    make_story("Public story")
    make_story("Hidden draft", published=False)
    client.get("/")  # an anonymous copy is now cached
    editor = editor_client()
    response = editor.get("/")
    assert "1 draft is waiting" in response.content.decode()  # the staff note, not the anonymous copy
    assert "no-store" in response["Cache-Control"]
    assert "draft is waiting" not in client.get("/").content.decode()
