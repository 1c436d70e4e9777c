"""The writer, the runner and the import_stories command, against the database."""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from django.db import DatabaseError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.text import slugify

from stories.importer import import_paths, read_document
from stories.importer import sql as writer_sql
from stories.importer.derived import derived_fields
from stories.importer.documents import ArticleData
from stories.importer.writer import BatchWriter
from stories.models import OUTLETS_PREVIEW_SIZE, Article, Coverage, ImportedDocument, Provider, Story, Topic
from tests.factories import run_import as run
from tests.test_documents import LEAD_RULES, RELATED_RULES, SEED_LEAD_URL, SEED_RELATED

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "seeds" / "000_8c0de6de77f2d51c.txt"
SEEDS = ROOT / "data" / "seeds"
SAMPLE = SEEDS / "sample"
NEWER_SEED = SAMPLE / "2020-06-11-amazon-bans-police-use-of-its-face-recognition-technology-for-a-year.md"
VALID = Path(__file__).resolve().parent / "data" / "valid"
SEED_TEXT = SEED.read_text(encoding="utf-8")
# Two good documents that share no outlet with the seed.
GOOD = [SAMPLE / "2021-03-11-ai-moves-to-the-edge.md", VALID / "no_related.md"]
SEED_DOMAINS = {"bostonglobe.com"} | {row[3] for row in SEED_RELATED}
SUMMARY = re.compile(r"created (\d+), updated (\d+), unchanged (\d+), failed (\d+)")

pytestmark = pytest.mark.django_db


def counts(stdout):
    match = SUMMARY.search(stdout)
    assert match, stdout
    return tuple(int(n) for n in match.groups())


def errors(stderr):
    return [line for line in stderr.splitlines() if line and not line.startswith("warning: ")]


def tagged(text, tag):
    """The document with every web URL made unique to ``tag`` (a fragment), so that its rows can be told apart."""
    return re.sub(r'(webUrl: "[^"#]+)"', rf'\1#doc-{tag}"', text)


def write(folder, name, content):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def copy_good(folder):
    return [Path(shutil.copy(path, folder / path.name)) for path in GOOD]


def nothing_of(tag):
    """No row of the document tagged ``tag`` (nor of the seed's outlets) is stored."""
    assert not Article.objects.filter(web_url__contains=f"#doc-{tag}").exists()
    assert not Provider.objects.filter(domain__in=SEED_DOMAINS).exists()
    assert not Story.objects.filter(source_file__endswith=f"/{tag}.md").exists()
    assert not ImportedDocument.objects.filter(source_file__endswith=f"/{tag}.md").exists()
    return True


def good_imported():
    leads = set(Story.objects.values_list("lead__web_url", flat=True))
    assert {read_document(path).lead.web_url for path in GOOD} <= leads
    return True


def snapshot():
    """Every row the importer writes, ids and timestamps included."""
    return {
        "providers": sorted(Provider.objects.values_list("id", "domain", "name", "slug", "led_count", "covered_count")),
        "topics": sorted(Topic.objects.values_list("id", "slug", "name", "story_count")),
        "articles": sorted(
            Article.objects.values_list(
                "id", "web_url", "title", "excerpt", "published_at", "amp_url", "cdn_amp_url", "type", "quality",
                "heat", "provider_id", "images",
            )
        ),
        "stories": sorted(
            Story.objects.values_list(
                "id", "lead_id", "slug", "category", "heat", "quality", "published", "published_at",
                "editor_decided_at", "secured", "source_file", "coverage_count", "outlet_count", "outlets_preview",
                "image", "search_text", "created_at", "updated_at",
            )
        ),
        "coverage": sorted(Coverage.objects.values_list("id", "story_id", "article_id", "position")),
        "story_topics": sorted(Story.topics.through.objects.values_list("id", "story_id", "topic_id")),
        "documents": sorted(ImportedDocument.objects.values_list("id", "content_hash", "story_id", "source_file")),
    }  # fmt: skip


def coverage_urls(story):
    return list(story.coverage_items.order_by("position").values_list("article__web_url", flat=True))


# --- the bundled seed -------------------------------------------------------------------


def test_the_bundled_seed_round_trips():
    status, out, err = run(SEED)
    assert (status, err) == (0, "")
    assert out.strip() == "created 1, updated 0, unchanged 0, failed 0"

    story = Story.objects.get()
    lead = story.lead
    assert lead.title == story.title == "Amazon bans police use of its face recognition technology for a year"
    assert lead.excerpt.startswith("Amazon on Wednesday banned police use of its face-recognition technology")
    assert lead.web_url == SEED_LEAD_URL
    assert lead.published_at == story.published_at == datetime(2020, 6, 11, 2, 1, tzinfo=UTC)
    assert (lead.provider.name, lead.provider.domain, lead.provider.slug) == (
        "The Boston Globe",
        "bostonglobe.com",
        "bostonglobe-com",
    )
    assert (lead.quality, lead.heat, story.quality, story.heat, story.category) == (39, -1, 39, -1, "news")
    assert sorted(story.topics.values_list("name", flat=True)) == ["AI", "Computer Vision"]

    items = list(story.coverage_items.select_related("article__provider").order_by("position"))
    assert [item.position for item in items] == list(range(11))
    for item, (title, url, name, domain, has_image) in zip(items, SEED_RELATED, strict=True):
        assert item.article.title.startswith(title)
        assert item.article.web_url == url
        assert (item.article.provider.name, item.article.provider.domain) == (name, domain)
        assert bool(item.article.images) is has_image
    assert story.coverage_count == 11
    assert story.outlet_count == 10
    assert Provider.objects.count() == 10
    assert story.outlets_preview == [
        ["TechCrunch", "techcrunch-com"],
        ["The Next Web", "thenextweb-com"],
        ["VentureBeat", "venturebeat-com"],
        ["Business Insider", "businessinsider-com"],
    ]
    venturebeat = Article.objects.get(web_url=SEED_RELATED[2][1])
    assert venturebeat.images[0]["url"] == (
        "https://venturebeat.com/wp-content/uploads/2020/06/joy-buolamwini.jpg?w=1200&strip=all"
    )
    assert (venturebeat.images[0]["width"], venturebeat.images[0]["height"]) == (1200, 600)
    # the lead has no image of its own: the story shows its first coverage item's
    assert (
        story.image["url"]
        == "https://techcrunch.com/wp-content/uploads/2020/06/getty-facial-face-recognition.jpg?w=1024"
    )
    assert story.secured.startswith("nToMhqtgXwN4v8fpRCdUytjWlJmUA6R6Y414CIznsy7Lovc")
    assert story.secured.endswith(";a+puxKAO1nuqBXEqpZ0u3w==")
    assert story.published is False
    assert story.editor_decided_at is None
    assert "Charlotte Observer" in story.search_text
    assert ImportedDocument.objects.get().story == story
    # an unpublished story counts for no outlet or topic
    assert Provider.objects.get(domain="bostonglobe.com").led_count == 0
    assert Topic.objects.get(slug="ai").story_count == 0


def test_the_seed_and_its_newer_version_give_one_story():
    status, out, _ = run(SEED, NEWER_SEED)
    assert status == 0
    assert counts(out) == (1, 1, 0, 0)
    story = Story.objects.get()
    assert story.lead.web_url == SEED_LEAD_URL
    assert Article.objects.filter(web_url=SEED_LEAD_URL).count() == 1
    assert story.coverage_count == 30 == story.coverage_items.count()
    assert coverage_urls(story) == [item.web_url for item in read_document(NEWER_SEED).related]


def test_the_whole_bundled_data_imports():
    status, out, err = run(SEEDS)
    assert status == 0
    assert counts(out) == (45, 1, 0, 0)
    assert errors(err) == []
    assert Story.objects.count() == 45
    assert Coverage.objects.count() == 111
    assert Article.objects.count() == 154 + 11  # the seed's own coverage stays stored, though no longer shown
    assert Topic.objects.count() == 12
    assert Story.objects.filter(published=True).count() == 26
    ai = Topic.objects.get(slug="ai")
    assert ai.story_count == 26  # every sample document is on AI; counts are refreshed after the import
    for story in Story.objects.all():
        assert story.coverage_count == story.coverage_items.count()


def test_the_valid_edge_cases_import():
    status, out, err = run(VALID)
    assert status == 0, err
    assert counts(out) == (13, 0, 0, 0)
    assert sorted(line.split(": ", 2)[2] for line in err.splitlines()) == [
        "related[0]: is the lead article itself; not counted as coverage",
        "related[1]: repeats an earlier item's URL; kept once",
    ]
    no_related = Story.objects.get(lead__web_url="https://no-related.example.com/story")
    assert (no_related.coverage_count, no_related.outlet_count, no_related.published) == (0, 1, True)
    assert Story.objects.get(lead__web_url="https://no-published.example.com/story").published is True
    quality = Story.objects.get(lead__web_url="https://quality.example.com/story")
    assert (quality.quality, quality.heat, quality.published) == (150, 150, False)
    assert Article.objects.get(web_url="https://other-quality.example.org/coverage").quality == 104
    assert Story.objects.get(lead__web_url="https://bom-crlf.example.com/story").title == (
        "BOM and CRLF line endings are fine"
    )
    twice = Story.objects.get(lead__web_url="https://twice.example.com/story")
    assert twice.coverage_count == 2 and twice.outlet_count == 3
    itself = Story.objects.get(lead__web_url="https://self.example.com/story")
    assert coverage_urls(itself) == ["https://cover-self.example.org/coverage"]
    entities = Story.objects.get(lead__web_url__startswith="https://entities.example.com/")
    assert entities.lead.web_url == "https://entities.example.com/story?a=1&b=2&region=us&para=3&copy=4"
    assert entities.image["url"] == "https://entities.example.com/pic.jpg?w=1200&strip=all"  # the lead's own
    unicode = Story.objects.get(lead__web_url__startswith="https://unicode.example.com/")
    for topic in unicode.topics.all():
        assert topic.get_absolute_url().startswith("/")  # an ASCII slug the <slug:slug> route takes
    latest = Article.objects.get(web_url="https://times-max.example.org/e")
    assert latest.published_at == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    times = Story.objects.get(lead__web_url="https://times.example.com/story")
    assert times.published_at == datetime(2020, 6, 11, 9, 1, tzinfo=UTC)


# --- the rules: a broken lead is skipped, a broken related item dropped -----------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"), [r[1:] for r in LEAD_RULES], ids=[r[0] for r in LEAD_RULES]
)
def test_a_document_that_breaks_a_rule_is_skipped_and_the_others_import(tmp_path, old, new, field, problem):
    assert old in SEED_TEXT
    copy_good(tmp_path)
    bad = write(tmp_path, "broken.md", tagged(SEED_TEXT.replace(old, new, 1), "broken"))
    status, out, err = run(tmp_path)
    assert status == 1
    assert counts(out) == (2, 0, 0, 1)
    [line] = errors(err)
    assert line.startswith(f"{bad}: {field}: ")
    assert problem in line
    assert nothing_of("broken")
    assert good_imported()


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"), [r[1:] for r in RELATED_RULES], ids=[r[0] for r in RELATED_RULES]
)
def test_a_related_item_that_breaks_a_rule_is_dropped_and_the_rest_imports(tmp_path, old, new, field, problem):
    path = write(tmp_path, "doc.md", SEED_TEXT.replace(old, new, 1))
    status, out, err = run(path)
    assert status == 0
    assert counts(out) == (1, 0, 0, 0)
    [warning] = err.splitlines()
    assert warning.startswith(f"warning: {path}: {field}: ")
    assert problem in warning and warning.endswith("; item dropped")
    story = Story.objects.get()
    urls = coverage_urls(story)
    assert len(urls) == story.coverage_count == 10
    assert SEED_RELATED[2][1] not in urls
    assert not Article.objects.filter(web_url=SEED_RELATED[2][1]).exists()


def test_warnings_are_quiet_with_verbosity_0(tmp_path):
    path = write(tmp_path, "doc.md", SEED_TEXT.replace(RELATED_RULES[0][1], RELATED_RULES[0][2], 1))
    assert run(path, verbosity=0) == (0, "", "")
    assert Story.objects.count() == 1


def test_missing_paths_fail_the_run_and_the_rest_imports(tmp_path):
    status, out, err = run(tmp_path / "nowhere", SEED)
    assert status == 1
    assert counts(out) == (1, 0, 0, 1)
    assert errors(err) == [f"{tmp_path / 'nowhere'}: no such file or folder"]


def test_folders_are_searched_recursively_for_txt_and_md(tmp_path):
    minimal = (VALID / "minimal_required_fields_only.md").read_text()
    write(tmp_path, "a/b/c/deep.md", tagged(minimal, "deep"))
    write(tmp_path, "a/upper.MD", tagged(minimal, "upper"))
    write(tmp_path, "a/seed.txt", tagged(minimal, "txt"))
    write(tmp_path, "a/notes.rst", tagged(minimal, "rst"))
    write(tmp_path, "a/.hidden.md", tagged(minimal, "hidden"))
    write(tmp_path, "a/data.yaml", tagged(minimal, "yaml"))
    status, out, _ = run(tmp_path / "a")
    assert status == 0
    assert counts(out) == (3, 0, 0, 0)
    tags = {url.rsplit("#doc-", 1)[1] for url in Article.objects.values_list("web_url", flat=True)}
    assert tags == {"deep", "upper", "txt"}


def test_a_file_named_directly_is_read_whatever_its_suffix(tmp_path):
    path = write(tmp_path, "seed.yaml", SEED.read_bytes())
    assert run(path)[0] == 0
    assert Story.objects.count() == 1


# --- idempotency and updates --------------------------------------------------------


def test_a_second_run_writes_nothing_and_reports_all_unchanged():
    assert counts(run(SEEDS)[1]) == (45, 1, 0, 0)
    before = snapshot()
    with CaptureQueriesContext(connection) as queries:
        status, out, _ = run(SEEDS)
    assert status == 0
    assert counts(out) == (0, 0, 46, 0)
    assert snapshot() == before
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


def test_a_file_that_changed_only_in_bytes_rewrites_the_same_rows(tmp_path):
    path = write(tmp_path, "doc.md", SEED.read_bytes())
    run(path)
    before = snapshot()
    path.write_bytes(SEED.read_bytes() + b"\nA body that is not front matter.\n")
    status, out, _ = run(path)
    assert (status, counts(out)) == (0, (0, 1, 0, 0))
    after = snapshot()
    for table in ("providers", "topics", "articles"):
        assert after[table] == before[table], table
    for table in ("coverage", "story_topics"):  # rewritten: the same rows under new ids
        assert [row[1:] for row in after[table]] == [row[1:] for row in before[table]], table
    assert [row[:-1] for row in after["stories"]] == [row[:-1] for row in before["stories"]]  # but updated_at
    assert len(after["documents"]) == 2  # both versions' hashes are known now


def test_a_changed_document_updates_its_story_and_articles_in_place(tmp_path):
    path = write(tmp_path, "doc.md", SEED_TEXT)
    run(path)
    story = Story.objects.get()
    lead_id = story.lead_id
    techcrunch = Article.objects.get(web_url=SEED_RELATED[0][1])
    articles_before = Article.objects.count()

    changed = (
        SEED_TEXT.replace("Amazon bans police use of its face recognition technology for a year", "New headline", 1)
        .replace("Amazon won\u2019t say if its facial recognition", "Changed coverage headline", 1)
        .replace("  - AI\n", "  - Robots\n", 1)
        .replace("quality: 39", "quality: 45", 1)
    )
    # drop the last related item (Law360) and add a new one first
    changed = changed[: changed.index('  - title: "Amazon Blocks Facial')] + "\nsecured: x\n---\n"
    changed = changed.replace(
        "related:\n",
        'related:\n  - title: "Brand new coverage"\n    webUrl: "https://new.example.org/x"\n'
        "    publishedDateTime: 2020-06-11T05:00:00Z\n    provider:\n      name: New Outlet\n",
        1,
    )
    path.write_text(changed)
    status, out, _ = run(path)
    assert status == 0
    assert counts(out) == (0, 1, 0, 0)

    story = Story.objects.get()  # the same story, not a second one
    assert story.lead_id == lead_id
    assert story.title == "New headline"
    assert story.quality == 45
    assert story.secured == "x"
    assert sorted(story.topics.values_list("name", flat=True)) == ["Computer Vision", "Robots"]
    urls = coverage_urls(story)
    assert urls[0] == "https://new.example.org/x"
    assert urls[1:] == [row[1] for row in SEED_RELATED[:-1]]
    assert story.coverage_count == 11
    techcrunch_now = Article.objects.get(web_url=SEED_RELATED[0][1])
    assert techcrunch_now.pk == techcrunch.pk
    assert techcrunch_now.title.startswith("Changed coverage headline")
    assert Article.objects.count() == articles_before + 1  # one new, none duplicated
    assert Article.objects.filter(web_url=SEED_RELATED[-1][1]).exists()  # Law360's stays, as no story's coverage
    assert not Coverage.objects.filter(article__web_url=SEED_RELATED[-1][1]).exists()


def test_an_editors_published_flag_survives_reimports(tmp_path):
    path = write(tmp_path, "doc.md", SEED_TEXT)
    run(path)
    story = Story.objects.get()
    assert story.published is False
    Story.objects.filter(pk=story.pk).update(published=True, editor_decided_at=timezone.now())

    path.write_text(SEED_TEXT.replace("quality: 39", "quality: 40", 1))  # still "published: false"
    assert counts(run(path)[1]) == (0, 1, 0, 0)
    story.refresh_from_db()
    assert (story.published, story.quality) == (True, 40)
    assert story.editor_decided_at is not None

    # and the other way round: an editor's "unpublished" holds against "published: true"
    Story.objects.filter(pk=story.pk).update(published=False)
    path.write_text(SEED_TEXT.replace("published: false", "published: true", 1))
    run(path)
    story.refresh_from_db()
    assert story.published is False


def test_without_an_editor_the_document_sets_the_flag_on_reimport(tmp_path):
    path = write(tmp_path, "doc.md", SEED_TEXT)
    run(path)
    path.write_text(SEED_TEXT.replace("published: false", "published: true", 1))
    run(path)
    assert Story.objects.get().published is True
    path.write_text(SEED_TEXT.replace("published: false\n", "", 1))  # absent means published
    run(path)
    assert Story.objects.get().published is True


def test_an_article_shared_by_two_documents_is_stored_once(tmp_path):
    shared = SEED_RELATED[0][1]
    one = tagged(SEED_TEXT, "one").replace(f"{shared}#doc-one", shared)
    two = tagged(SEED_TEXT, "two").replace(f"{shared}#doc-two", shared)
    two = two.replace("Amazon won\u2019t say if its facial recognition", "Another headline for it", 1)
    # and document three's lead is a related item of document one
    three = tagged(SEED_TEXT, "three").replace(f"{SEED_LEAD_URL}#doc-three", SEED_RELATED[1][1] + "#doc-one")
    write(tmp_path, "one.md", one)
    write(tmp_path, "two.md", two)
    write(tmp_path, "three.md", three)
    for batch_size in (200, 1):
        status, out, _ = run(tmp_path, batch_size=batch_size)
        assert (status, counts(out)) == (0, (3, 0, 0, 0))
        assert Story.objects.count() == 3
        assert Article.objects.filter(web_url=shared).count() == 1
        article = Article.objects.get(web_url=shared)
        assert Coverage.objects.filter(article=article).count() == 2
        both = Article.objects.get(web_url=SEED_RELATED[1][1] + "#doc-one")
        assert both.led_story.source_file.endswith("three.md")
        assert Coverage.objects.filter(article=both).count() == 1
        Story.objects.all().delete()
        ImportedDocument.objects.all().delete()


def test_the_same_lead_twice_in_one_batch_gives_one_story(tmp_path):
    write(tmp_path, "a.md", SEED_TEXT)
    write(tmp_path, "b.md", SEED_TEXT.replace("quality: 39", "quality: 41", 1))
    status, out, _ = run(tmp_path)
    assert (status, counts(out)) == (0, (1, 1, 0, 0))
    assert Story.objects.get().quality == 41  # the later file wins


def test_files_with_the_same_bytes_are_one_document(tmp_path):
    write(tmp_path, "a.md", SEED_TEXT)
    write(tmp_path, "b.md", SEED_TEXT)
    assert counts(run(tmp_path)[1]) == (1, 0, 1, 0)


def test_every_copy_of_a_broken_file_is_reported(tmp_path):
    broken = SEED_TEXT.replace("published: false", "published: no")
    a, b = write(tmp_path, "a.md", broken), write(tmp_path, "b.md", broken)
    status, out, err = run(tmp_path)
    assert status == 1
    assert counts(out) == (0, 0, 0, 2)
    assert errors(err) == [
        f"{a}: published: must be true or false, not 'no'",
        f"{b}: published: must be true or false, not 'no'",
    ]


def test_every_file_over_the_size_limit_is_reported(tmp_path):
    big = b"---\n" + b"#" * (1024 * 1024) + b"\n---\n"
    a, b = write(tmp_path, "a.md", big), write(tmp_path, "b.md", big + b" ")
    status, out, err = run(tmp_path)
    assert status == 1
    assert counts(out) == (0, 0, 0, 2)
    assert [line.split(":")[0] for line in errors(err)] == [str(a), str(b)]


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes in names")
def test_a_file_name_that_is_not_utf8_imports(tmp_path):
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"bad\xff\x1bname.md"), "wb") as handle:
        handle.write(SEED.read_bytes())
    status, out, err = run(tmp_path)
    assert (status, counts(out), err) == (0, (1, 0, 0, 0), "")
    assert Story.objects.get().source_file == f"{tmp_path}/bad\ufffd\\x1bname.md"


# --- atomicity -------------------------------------------------------------------------

STAGES = {
    # stage: (the writer's statement that fails, does this call write the "boom" document?)
    "articles": ("upsert_articles", lambda rows: any("#doc-boom" in row[3] for row in rows)),
    "stories": ("upsert_stories", lambda rows: any(row["source_file"].endswith("boom.md") for row in rows)),
    "coverage": (
        "insert_coverage",
        lambda rows: Article.objects.filter(pk__in=[row[1] for row in rows], web_url__contains="#doc-boom").exists(),
    ),
    "topics": (
        "insert_story_topics",
        lambda rows: Story.objects.filter(pk__in=[row[0] for row in rows], source_file__endswith="boom.md").exists(),
    ),
    "documents": ("insert_documents", lambda rows: any(row[2].endswith("boom.md") for row in rows)),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_failure_while_writing_a_document_leaves_nothing_of_it(tmp_path, stage):
    statement, writes_boom = STAGES[stage]
    original = getattr(writer_sql, statement)

    def failing(rows):
        rows = list(rows)
        if writes_boom(rows):
            raise DatabaseError("injected failure")
        return original(rows)

    copy_good(tmp_path)
    boom = write(tmp_path, "boom.md", tagged(SEED_TEXT, "boom"))
    with mock.patch.object(writer_sql, statement, side_effect=failing):
        status, out, err = run(tmp_path)
    assert status == 1
    assert counts(out) == (2, 0, 0, 1)
    assert errors(err) == [f"{boom}: database: injected failure"]
    assert nothing_of("boom")
    assert good_imported()
    for story in Story.objects.all():
        assert story.coverage_count == story.coverage_items.count()
        assert story.documents.exists()
    # and once the failure is gone, a re-run writes it, whole
    status, out, _ = run(tmp_path)
    assert (status, counts(out)) == (0, (1, 0, 2, 0))
    assert Story.objects.get(lead__web_url=f"{SEED_LEAD_URL}#doc-boom").coverage_count == 11


def test_a_collision_is_retried_and_then_succeeds(tmp_path):
    original = writer_sql.insert_coverage
    failures = []

    def locked_once(rows):
        if not failures:
            failures.append(1)
            raise OperationalError("database is locked")
        return original(rows)

    with mock.patch.object(writer_sql, "insert_coverage", side_effect=locked_once):
        status, out, _ = run(SEED)
    assert (status, counts(out)) == (0, (1, 0, 0, 0))
    assert failures == [1]
    assert Story.objects.get().coverage_count == Coverage.objects.count() == 11


def test_an_unexpected_error_in_the_writer_fails_only_its_document(tmp_path):
    copy_good(tmp_path)
    boom = write(tmp_path, "boom.md", tagged(SEED_TEXT, "boom"))
    original = BatchWriter._story

    def broken(self, doc, *args):
        if doc.source_file.endswith("boom.md"):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return original(self, doc, *args)

    with mock.patch.object(BatchWriter, "_story", broken):
        status, out, err = run(tmp_path)
    assert status == 1
    assert counts(out) == (2, 0, 0, 1)
    assert errors(err) == [f"{boom}: cannot write (ValueError): A string literal cannot contain NUL (0x00) characters."]
    assert nothing_of("boom")


# --- speed ------------------------------------------------------------------------------


def many(count, start):
    """``count`` versions of the seed, each with its own URLs, lead outlet and topic."""
    docs = []
    for n in range(start, start + count):
        text = tagged(SEED_TEXT, f"n{n}").replace("domain: bostonglobe.com", f"domain: outlet{n}.example.com", 1)
        text = text.replace("  - AI\n", f"  - AI\n  - Topic {n}\n", 1)
        docs.append(read_document(Path(f"many/{n}.md"), text.encode()))
    return docs


def queries_to_write(docs):
    with CaptureQueriesContext(connection) as queries:
        outcomes = BatchWriter().write(docs)
    assert {outcome.status for outcome in outcomes} <= {"created", "updated"}
    return len(queries)


def test_a_batch_costs_a_fixed_number_of_queries():
    few, lots = many(5, 0), many(50, 100)  # 60 and 600 articles
    created = (queries_to_write(few), queries_to_write(lots))
    assert created[0] == created[1]
    assert created[0] <= 20
    assert Story.objects.count() == 55 and Coverage.objects.count() == 55 * 11

    for doc in few + lots:  # changed documents: stories are updated in place
        doc.lead.title += " (updated)"
    updated = (queries_to_write(few), queries_to_write(lots))
    assert updated[0] == updated[1] <= 20
    assert Story.objects.count() == 55
    assert Article.objects.filter(title__endswith="(updated)").count() == 55


def test_provider_and_topic_ids_are_cached_across_batches():
    writer = BatchWriter()
    writer.write(many(3, 0))
    with CaptureQueriesContext(connection) as queries:
        writer.write(many(3, 0)[:1])  # known outlets and topics
    assert len(queries) > 5
    assert not [q["sql"] for q in queries if '"stories_provider"' in q["sql"] or '"stories_topic"' in q["sql"]]


def test_dry_run_validates_without_writing(tmp_path):
    copy_good(tmp_path)
    write(tmp_path, "bad.md", SEED_TEXT.replace("quality: 39", 'quality: "39"', 1))
    status, out, err = run(tmp_path, dry_run=True)
    assert status == 1
    assert out.strip() == "dry run: 2 valid, 0 unchanged, 1 failed; nothing written"
    assert len(errors(err)) == 1
    assert not Story.objects.exists() and not Article.objects.exists() and not Provider.objects.exists()
    status, out, _ = run(GOOD[0], dry_run=True)
    assert (status, out.strip()) == (0, "dry run: 1 valid, 0 unchanged, 0 failed; nothing written")


def test_quiet_with_verbosity_0_and_when_not_on_a_terminal():
    assert run(SEED, verbosity=0) == (0, "", "")
    status, out, err = run(SEED)
    assert (status, err) == (0, "")  # no progress line: stderr is not a terminal
    assert counts(out) == (0, 0, 1, 0)


def test_progress_shows_on_a_terminal_only(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    status, out, err = run(SEEDS, batch_size=20)
    assert status == 0
    assert re.findall(r"\r(\d+) documents, [\d,]+/s", err) == ["20", "40", "46"]
    assert err.endswith("\n")
    assert counts(out) == (45, 1, 0, 0)
    assert run(SEEDS, verbosity=0) == (0, "", "")


def test_parsing_on_several_processes_gives_the_same_result():
    status, out, _ = run(SEEDS, jobs=2, batch_size=7)
    assert status == 0
    assert counts(out) == (45, 1, 0, 0)
    assert Coverage.objects.count() == 111


def test_import_paths_reports_each_problem_through_callbacks(tmp_path):
    lines, warnings = [], []
    write(tmp_path, "bad.md", b"")
    report = import_paths([tmp_path, SEED], on_error=lines.append, on_warning=warnings.append)
    assert (report.created, report.failed, report.seen) == (1, 1, 2)
    assert lines == [f"{tmp_path / 'bad.md'}: file is empty"]


# --- derived fields (stories.importer.derived) --------------------------------------------


def article(title, domain, *, excerpt="", images=(), name=None):
    return ArticleData(
        title=title,
        web_url=f"https://{domain}/{slugify(title)}",
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
        provider_name=name or domain.split(".")[0].title(),
        provider_domain=domain,
        excerpt=excerpt,
        images=list(images),
    )


def outlet_of(item):
    return item.provider_domain, item.provider_name, f"slug-of-{item.provider_domain}"


def test_derived_fields_count_outlets_once_and_preview_the_first_few_others():
    lead = article("Lead: the news!", "lead.example.com", excerpt="What happened.")
    related = [
        article("Also the lead's outlet", "lead.example.com"),
        *(article(f"Item {n}", f"o{n}.example.com", excerpt=f"Excerpt {n}.") for n in range(6)),
        article("Again o0", "o0.example.com"),
    ]
    fields = derived_fields(lead, related, outlet_of)
    assert fields["slug"] == "lead-the-news"
    assert fields["coverage_count"] == 8
    assert fields["outlet_count"] == 7  # the lead's outlet and o0..o5, each once
    assert fields["outlets_preview"] == [[f"O{n}", f"slug-of-o{n}.example.com"] for n in range(OUTLETS_PREVIEW_SIZE)]
    assert fields["image"] is None
    assert fields["search_text"].splitlines()[:4] == [
        "Lead: the news!",
        "What happened.",
        "Also the lead's outlet",
        "Item 0",
    ]
    assert "" not in fields["search_text"].splitlines()  # empty excerpts leave no blank lines


def test_derived_fields_take_the_leads_picture_else_the_first_items_and_a_slug_always():
    picture = {"url": "https://o1.example.com/a.jpg", "width": None, "height": None, "cached": False}
    related = [article("No picture", "o0.example.com"), article("Picture", "o1.example.com", images=[picture])]
    # Another outlet's picture carries its credit ("Picture: O1"); the lead's own has none.
    credited = dict(picture, credit={"name": "O1", "slug": "slug-of-o1.example.com"})
    assert derived_fields(article("日本語だけ", "lead.example.com"), related, outlet_of)["image"] == credited
    own = dict(picture, url="https://lead.example.com/own.jpg")
    fields = derived_fields(article("!!!", "lead.example.com", images=[own]), related, outlet_of)
    assert fields["image"] == own
    assert fields["slug"] == "story"  # nothing left of the headline
    assert derived_fields(article("a-" * 60, "lead.example.com"), [], outlet_of)["slug"] == ("a-" * 40).strip("-")


def test_a_story_made_by_the_factories_derives_what_the_import_stored():
    assert run(SEED)[0] == 0
    imported = Story.objects.select_related("lead__provider").get()
    items = [c.article for c in imported.coverage_items.select_related("article__provider").order_by("position")]
    expected = derived_fields(imported.lead, items, lambda a: (a.provider.domain, a.provider.name, a.provider.slug))
    assert {name: getattr(imported, name) for name in expected} == expected


# --- a real process ----------------------------------------------------------------------


def _env(db):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "SQLITE_TEST"))}
    env["DATABASE_URL"] = f"sqlite:///{db}"
    return env


def _manage(db, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *map(str, args)],
        cwd=ROOT,
        env=_env(db),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "template.sqlite3"
    result = _manage(db, "migrate", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture
def fresh_db(migrated_db, tmp_path):
    db = tmp_path / "db.sqlite3"
    shutil.copy(migrated_db, db)
    return db


@pytest.mark.slow
def test_the_command_in_a_real_process_exits_non_zero_on_failure(fresh_db, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    copy_good(docs)
    bad = write(docs, "bad.md", SEED_TEXT.replace("webUrl: ", 'webUrl: "javascript:alert(1)"\nx: ', 1))
    result = _manage(fresh_db, "import_stories", docs)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{bad}: webUrl: must be an http or https URL, not javascript: one",
    ]
    assert result.stdout.strip() == "created 2, updated 0, unchanged 0, failed 1"

    result = _manage(fresh_db, "import_stories", *GOOD)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (
        0,
        "created 0, updated 0, unchanged 2, failed 0",
        "",
    )
    result = _manage(fresh_db, "import_stories", "-v", "0", SEED)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def _state(db):
    """What the database holds, by content (no ids): comparable across databases."""
    with sqlite3.connect(db) as conn:
        query = conn.execute
        return {
            "stories": sorted(
                query(
                    "SELECT a.web_url, a.title, s.published, s.coverage_count, s.outlet_count, s.source_file"
                    " FROM stories_story s JOIN stories_article a ON a.id = s.lead_id"
                )
            ),
            "coverage": sorted(
                query(
                    "SELECT la.web_url, ca.web_url, c.position FROM stories_coverage c"
                    " JOIN stories_story s ON s.id = c.story_id JOIN stories_article la ON la.id = s.lead_id"
                    " JOIN stories_article ca ON ca.id = c.article_id"
                )
            ),
            "topics": sorted(
                query(
                    "SELECT la.web_url, t.slug FROM stories_story_topics st JOIN stories_topic t ON t.id = st.topic_id"
                    " JOIN stories_story s ON s.id = st.story_id JOIN stories_article la ON la.id = s.lead_id"
                )
            ),
            "documents": sorted(
                query(
                    "SELECT d.content_hash, la.web_url FROM stories_importeddocument d"
                    " JOIN stories_story s ON s.id = d.story_id JOIN stories_article la ON la.id = s.lead_id"
                )
            ),
            "articles": sorted(
                query(
                    "SELECT a.web_url, a.title, p.domain FROM stories_article a"
                    " JOIN stories_provider p ON p.id = a.provider_id"
                )
            ),
            "providers": sorted(query("SELECT domain, name, slug FROM stories_provider")),
        }


KILLER = """
import os, signal, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsreader.settings")
django.setup()
from django.core.management import call_command
from stories.importer import sql
original, calls = getattr(sql, sys.argv[1]), [0]
def statement(rows):
    calls[0] += 1
    result = original(rows)
    if calls[0] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction, rows written but not committed
    return result
setattr(sql, sys.argv[1], statement)
call_command("import_stories", "--batch-size", "3", *sys.argv[3:])
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize(("model", "call"), [("insert_coverage", 3), ("upsert_articles", 2), ("insert_documents", 4)])
def test_a_killed_import_leaves_whole_stories_and_a_rerun_converges(migrated_db, tmp_path, model, call):
    docs = [SEED, *sorted(SAMPLE.glob("2019-12-2*.md"))]  # 12 documents: 4 batches of 3
    killed, clean = tmp_path / "killed.sqlite3", tmp_path / "clean.sqlite3"
    shutil.copy(migrated_db, killed)
    shutil.copy(migrated_db, clean)

    result = subprocess.run(
        [sys.executable, "-c", KILLER, model, str(call), *map(str, docs)],
        cwd=ROOT,
        env=_env(killed),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    state = _state(killed)
    # only whole batches were committed: every story has all its coverage, topics and its document
    committed = (call - 1) * 3
    assert len(state["stories"]) == len(state["documents"]) == committed
    for lead, _title, _published, coverage_count, _outlets, _source in state["stories"]:
        assert coverage_count == sum(1 for row in state["coverage"] if row[0] == lead)

    assert _manage(killed, "import_stories", *docs).returncode == 0
    assert _manage(clean, "import_stories", *docs).returncode == 0
    assert _state(killed) == _state(clean)
