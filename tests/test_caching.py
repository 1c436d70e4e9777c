"""Anonymous pages are cached whole, and become fresh at once when content changes.

Run with the default local-memory cache and, when TEST_REDIS_URL names a Redis
server (.ci/run starts one), with Django's RedisCache as in production.
"""

import os

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from stories.caching import PAGE_PARAMS, page_key
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


# --- what keys a cached page (issue 14: a crawl of made-up URLs must not fill memory) -----------------


def test_reordered_parameters_and_empty_fields_share_one_cached_page(client, page_cache, django_assert_num_queries):
    make_story("Canonical headline", topics=["AI"])
    client.get("/?sort=top&topic=ai")
    with django_assert_num_queries(0):
        for url in ("/?topic=ai&sort=top", "/?sort=top&topic=ai&category=&q="):  # the form's empty fields
            assert "Canonical headline" in client.get(url).content.decode(), url


def test_made_up_and_repeated_parameters_are_neither_cached_nor_served_from_the_cache(client, page_cache):
    make_story("Plain headline")
    client.get("/")  # cached
    for url in ("/?utm_source=crawler1", "/?utm_source=crawler2", "/?topic=&topic=", "/?sort=top&sort=top"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert "Plain headline" in response.content.decode() and len(queries) > 0, url  # rendered
        assert "crawler" not in client.get("/").content.decode()  # the cached page is the plain one


def test_page_params_cover_every_filter():
    from stories.filters import StoryFilter

    assert set(StoryFilter.base_filters) <= PAGE_PARAMS
    assert {"q", "sort", "after", "before", "order", "p"} <= PAGE_PARAMS


def test_the_page_key_holds_the_known_non_empty_parameters_sorted():
    factory = RequestFactory()

    def key(url):
        return page_key(factory.get(url))

    canonical = key("/?q=robot&topic=ai")
    assert key("/?topic=ai&q=robot") == canonical
    assert key("/?topic=ai&q=robot&since=&provider=") == canonical  # the filter form's empty fields
    assert key("/?q=robots&topic=ai") != canonical
    assert key("/search/?q=robot&topic=ai") != canonical
    assert key("/?topic=ai&q=robot&utm_source=x") is None
    assert key("/?topic=x&topic=ai&q=robot") is None
    assert key("/?topic=ai&topic=") is None


# --- the local-memory cache's byte cap --------------------------------------------------------------


def capped(max_bytes, **options):
    from stories.cache_backends import ByteCappedLocMemCache

    name = f"capped-{max_bytes}-{len(options)}"
    backend = ByteCappedLocMemCache(name, {"OPTIONS": {"MAX_BYTES": max_bytes, **options}})
    backend.clear()
    return backend


def held(backend):
    """What the backend says it holds, checked against the pickles it holds."""
    assert backend.bytes_held == sum(len(value) for value in backend._cache.values())
    return backend.bytes_held


def test_the_byte_cap_evicts_the_least_recently_used_entries():
    backend = capped(10_000)
    for n in range(5):
        backend.set(f"page{n}", "x" * 2_900)  # about 2.9 KB pickled: three fit
    assert held(backend) <= 10_000
    assert [backend.get(f"page{n}") is not None for n in range(5)] == [False, False, True, True, True]
    backend.get("page2")  # read: now the most recently used
    backend.set("page5", "y" * 2_900)
    assert backend.get("page2") is not None and backend.get("page3") is None
    assert held(backend) <= 10_000


def test_the_byte_count_follows_replace_delete_add_incr_expiry_and_clear():
    backend = capped(100_000)
    backend.set("a", "x" * 5_000)
    backend.set("a", "x" * 100)  # replaced: its old size leaves the count
    assert held(backend) < 200
    backend.add("b", "y" * 1_000)
    backend.set("n", 1)
    backend.incr("n", 2**40)  # a bigger pickle, rewritten in place
    assert backend.get("n") == 2**40 + 1
    held(backend)
    backend.delete("b")
    assert backend.get("b") is None
    held(backend)
    backend.set("gone", "z" * 1_000, timeout=-1)  # expired at once
    assert backend.get("gone") is None
    held(backend)
    backend.set_many({f"k{i}": "v" * 50 for i in range(20)})
    held(backend)
    backend.clear()
    assert held(backend) == 0


def test_an_entry_bigger_than_the_cap_is_not_stored_and_drops_its_old_value():
    backend = capped(10_000)
    backend.set("small", "x")
    backend.set("page", "old")
    backend.set("page", "x" * 20_000)
    assert backend.get("page") is None and backend.get("small") == "x"
    assert held(backend) < 100


def test_the_entry_cap_still_applies_and_keeps_the_byte_count_right():
    backend = capped(1_000_000, MAX_ENTRIES=10)
    for n in range(25):
        backend.set(f"k{n}", n)
    assert len(backend._cache) <= 10
    held(backend)


def test_the_byte_count_is_shared_by_every_thread_s_cache_object():
    first, second = capped(10_000), capped(10_000)  # the same LOCATION, as in two threads
    first.set("a", "x" * 4_000)
    second.set("b", "y" * 4_000)
    second.set("c", "z" * 4_000)
    assert first.get("a") is None and held(first) == held(second) <= 10_000


def test_settings_use_the_byte_capped_cache_with_cache_max_bytes():
    import subprocess
    import sys

    from tests.dbutil import PROJECT

    code = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c['OPTIONS'])"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CACHE_MAX_BYTES")}

    def setting(**extra):
        out = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=PROJECT, env={**env, **extra}, capture_output=True, text=True,
        )  # fmt: skip
        return out.stdout.strip() or out.stderr.strip().splitlines()[-1]

    assert setting() == "stories.cache_backends.ByteCappedLocMemCache {'MAX_ENTRIES': 5000, 'MAX_BYTES': 67108864}"
    assert setting(CACHE_MAX_BYTES="1000000").endswith("'MAX_BYTES': 1000000}")
    assert "CACHE_MAX_BYTES must be a whole number" in setting(CACHE_MAX_BYTES="64MB")
