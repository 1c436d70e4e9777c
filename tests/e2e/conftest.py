"""Browser tests: Playwright driving Debian's Chromium against the live application.

Nothing downloads a browser. Without /usr/bin/chromium these tests are skipped
with one line saying how to install it, except in CI (CI=true), where a missing
browser is a failure.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

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
]


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
    try:
        call_command(
            "import_stories", str(PROJECT / "data" / "seeds"), str(PROJECT / "tests" / "data" / "e2e"), verbosity=0
        )
    except SystemExit as exc:  # pragma: no cover - a bad bundled document fails the tests loudly
        raise AssertionError("importing the e2e data failed") from exc
    return live_server


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
