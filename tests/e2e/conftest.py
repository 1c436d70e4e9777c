"""Browser tests: Playwright driving Debian's Chromium against the live application.

Nothing downloads a browser. Without /usr/bin/chromium these tests are skipped
with one line saying how to install it, except in CI (CI=true), where a missing
browser is a failure.
"""

import importlib
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from pytest_django.plugin import blocking_manager_key

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses
# to run beside one unless told it is safe (it is: the loop is idle).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PROJECT = Path(__file__).resolve().parents[2]
E2E_DATA = PROJECT / "tests" / "data" / "e2e"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Hermetic: only the live server is reachable. Outlets' pictures (https://...) fail at once,
    # as they do offline, instead of fetching from the internet or waiting on DNS.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e/ is an e2e test (`-m "not e2e"` leaves the browser out)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _chromium_available():
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@pytest.fixture(autouse=True)
def _require_chromium():
    if not _chromium_available():
        message = (
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` to run browser tests"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _restore_editors_group():
    from django.contrib.auth.models import Group, Permission

    migration = importlib.import_module("stories.migrations.0002_editors_group")
    codenames = [f"view_{model}" for model in migration.VIEW_MODELS] + ["change_story"]
    group, _ = Group.objects.get_or_create(name=migration.EDITORS)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="stories", codename__in=codenames))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put the "Editors" group (made by a data migration) back once a live-server test has flushed the database.

    ``transactional_db`` empties every table after the test, that group included, and only the
    permissions and content types come back (post_migrate): without this, every live-server test
    after the first would find no "Editors" group (create_editor refuses to run without it).
    """
    result = yield
    if "transactional_db" in getattr(item, "fixturenames", ()):
        with item.config.stash[blocking_manager_key].unblock():
            _restore_editors_group()
    return result


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": SIZES["desktop"], "locale": "en-US", "timezone_id": "UTC"}


@pytest.fixture
def site(live_server, transactional_db, settings):
    """The live site with the bundled seeds and the e2e test documents imported."""
    settings.PAGE_CACHE_SECONDS = 0
    # The live server answers /static/ from the source folders (its static
    # handler runs before whitenoise), which know no hashed names: plain storage.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    try:
        call_command(
            "import_stories", str(PROJECT / "data" / "seeds"), str(PROJECT / "tests" / "data" / "e2e"), verbosity=0
        )
    except SystemExit as exc:  # pragma: no cover - a bad bundled document fails the tests loudly
        raise AssertionError("importing the e2e data failed") from exc
    return live_server


@pytest.fixture
def make_context(browser, browser_context_args):
    """A function making browser contexts whose arguments override the defaults (viewport, color_scheme...)."""
    contexts = []

    def make(**overrides):
        context = browser.new_context(**{**browser_context_args, **overrides})
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def watch(site):
    """Records dialogs, console errors, uncaught errors and CSP violations of the pages attached to it."""
    from tests.e2e.support import Watch

    return Watch(origin=site.url)


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
