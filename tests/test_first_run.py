"""What a newcomer sees after `make run`: the bundled demo's stories grouped with their coverage.

The import runs exactly as the Makefile's ``seed`` target writes it, so the test follows the
Makefile; the demo's drafts are published only because that target asks for it.
"""

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import call_command

from stories.models import Story
from tests.views.helpers import card, page

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SEED_LEAD_URL = (
    "https://www.bostonglobe.com/2020/06/10/business/amazon-bans-police-use-its-face-recognition-technology-year/"
)


def seed_import_arguments():
    """The arguments the Makefile's ``seed`` target gives import_stories."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^seed:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    line = next(line for line in recipe.splitlines() if "import_stories" in line)
    words = shlex.split(line)
    return words[words.index("import_stories") + 1 :]


def test_make_run_imports_the_demo_with_its_drafts_published_explicitly():
    arguments = seed_import_arguments()
    assert arguments == ["data/seeds", "--publish-drafts"]


def test_after_the_first_run_the_home_page_shows_stories_grouped_with_their_coverage(client, settings, monkeypatch):
    monkeypatch.chdir(ROOT)
    call_command("import_stories", *seed_import_arguments(), verbosity=0)
    assert not Story.objects.filter(published=False).exists()
    seed_story = Story.objects.select_related("lead").get(lead__web_url=SEED_LEAD_URL)
    assert seed_story.outlet_count >= 11  # the sample holds a newer version of the seed's story, with more outlets

    home = page(client.get("/"))  # anonymous: no login needed
    shown = card(home, seed_story.lead.title)
    assert f"Reported by {seed_story.outlet_count} outlets" in shown.text
    grouped = [story for story in Story.objects.published() if story.outlet_count >= 10]
    assert len(grouped) >= 5, "the demo should show several stories with real coverage"

    story_page = page(client.get(seed_story.get_absolute_url()))
    assert f"Reported by {seed_story.outlet_count} outlets" in story_page.text


def test_a_plain_import_of_the_demo_keeps_its_drafts():
    call_command("import_stories", str(ROOT / "data" / "seeds"), verbosity=0)
    seed_story = Story.objects.get(lead__web_url=SEED_LEAD_URL)
    assert seed_story.published is False
