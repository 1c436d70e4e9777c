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
    if request.param == "redis":  # as in production with REDIS_URL: the generation lives in Redis too
        settings.CONTENT_GENERATION_FILE = ""
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


# --- where the generation lives --------------------------------------------------------------------


def test_without_redis_the_generation_is_a_file_every_process_reads(settings, tmp_path):
    from stories.caching import bump_generation, generation

    settings.CONTENT_GENERATION_FILE = str(tmp_path / "state" / "content-generation")
    assert generation() == "0"  # no file yet: nothing has changed since the site was set up
    bump_generation()
    first = generation()
    assert first != "0" and (tmp_path / "state" / "content-generation").read_text() == first
    bump_generation()
    assert generation() not in ("0", first)
    # Another process changes it by replacing the file: this process reads the new value at once.
    (tmp_path / "state" / "content-generation").write_text("from-another-process")
    assert generation() == "from-another-process"
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["content-generation"]  # no temporary left


def test_the_generation_file_is_readable_by_a_server_running_as_another_user(settings, tmp_path):
    from stories.caching import bump_generation

    settings.CONTENT_GENERATION_FILE = str(tmp_path / "content-generation")
    bump_generation()
    assert (tmp_path / "content-generation").stat().st_mode & 0o777 == 0o644


def test_a_generation_file_that_cannot_be_written_is_logged_not_raised(settings, tmp_path, caplog):
    from stories.caching import bump_generation, generation

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.CONTENT_GENERATION_FILE = str(blocker / "content-generation")
    bump_generation()  # the change is committed already: an editor's action must not fail over this
    assert generation() == "0"  # and pages still answer (from the database, under the first generation)
    assert "could not write the content generation file" in caplog.text
    assert str(blocker / "content-generation") in caplog.text


def test_the_default_generation_file_sits_beside_the_sqlite_database(monkeypatch):
    import subprocess
    import sys

    from tests.dbutil import PROJECT

    code = "from django.conf import settings; print(settings.CONTENT_GENERATION_FILE)"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CONTENT_GENERATION_FILE")}

    def setting(**extra):
        out = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=PROJECT, env={**env, **extra}, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return out.stdout.strip()

    assert setting(DATABASE_URL="sqlite:////srv/news/db.sqlite3") == "/srv/news/db.sqlite3-generation"
    assert setting(DATABASE_URL="sqlite:////srv/news/db.sqlite3", REDIS_URL="redis://127.0.0.1:1/0") == ""
    assert setting(DATABASE_URL="postgres://u@db.internal:5432/news").endswith(
        "/var/content-generation-db-internal-news"
    )
    assert setting(CONTENT_GENERATION_FILE="/run/news/generation") == "/run/news/generation"
