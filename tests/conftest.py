import pytest
from django.core.cache import cache

from stories.directories import forget_process_copies
from stories.signals import content_changed


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    forget_process_copies()
    yield
    cache.clear()
    forget_process_copies()


@pytest.fixture(scope="session")
def _generation_file(tmp_path_factory):
    return str(tmp_path_factory.mktemp("generation") / "content-generation")


@pytest.fixture(autouse=True)
def _own_content_generation(settings, _generation_file):
    """Each test process keeps its own content generation file.

    By default it sits beside the SQLite database, which the test processes (and
    a developer's `make run`) would otherwise share: a bump in one would empty
    another's page cache in the middle of a test.
    """
    settings.CONTENT_GENERATION_FILE = _generation_file


@pytest.fixture
def signals():
    """The senders of the content_changed signals sent while the test runs."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append(sender)

    content_changed.connect(receiver, weak=False)
    yield sent
    content_changed.disconnect(receiver)
