"""Browser tests: Playwright driving Debian's Chromium against the live application.

Nothing downloads a browser. Without Chromium (CHROMIUM_PATH if set, else
/usr/bin/chromium or `chromium` on the PATH) these tests are skipped with one line
saying how to install it, except in CI (CI=true), where a missing browser fails
each of them with that line. Both are decided at collection, before any Playwright
fixture could try to launch a browser (and in every pytest-xdist worker alike).
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

DEFAULT_CHROMIUM = "/usr/bin/chromium"
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


def _find_chromium():
    """The Chromium to drive: CHROMIUM_PATH when set (and nothing else then), else /usr/bin/chromium or the PATH's."""
    explicit = os.environ.get("CHROMIUM_PATH")
    candidates = [explicit] if explicit else [DEFAULT_CHROMIUM, shutil.which("chromium")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = _find_chromium()
MISSING_CHROMIUM = (
    f"Chromium not found at {os.environ['CHROMIUM_PATH']} (CHROMIUM_PATH)"
    if os.environ.get("CHROMIUM_PATH")
    else f"Chromium not found at {DEFAULT_CHROMIUM} nor on the PATH"
) + ": install it with `apt-get install -y chromium` to run the browser tests"


class MissingChromium(pytest.Item):
    """Stands for a browser test in CI when Chromium is missing: sets up no fixture, fails with how to get it."""

    def runtest(self):
        pytest.fail(MISSING_CHROMIUM, pytrace=False)

    def reportinfo(self):
        return self.path, None, self.name


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e/ is an e2e test (`-m "not e2e"` leaves the browser out).

    Without Chromium, each one is skipped (a skip marker acts before any fixture is set up, so
    pytest-playwright never tries to launch a browser), or in CI replaced by a test that fails.
    """
    here = Path(__file__).resolve().parent
    in_ci = os.environ.get("CI", "").lower() == "true"
    for index, item in enumerate(items):
        if here not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if CHROMIUM:
            continue
        if in_ci:
            stand_in = MissingChromium.from_parent(item.parent, name=item.name)
            stand_in.own_markers[:] = item.own_markers
            stand_in.keywords.update(item.keywords)
            items[index] = stand_in
        else:
            item.add_marker(pytest.mark.skip(reason=MISSING_CHROMIUM))


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
    if "transactional_db" in (getattr(item, "funcargs", None) or {}):  # set up: the test was not skipped first
        with item.config.stash[blocking_manager_key].unblock():
            _restore_editors_group()
    return result


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
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
