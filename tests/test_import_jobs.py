"""The import's default: parsing workers for a large folder, one process for a small one, the same result.

And ``--publish-drafts``: the bundled demo's drafts published on request, never by default, never
over an editor's decision.
"""

import os
import shutil

import pytest
from django.utils import timezone

from bench.make_corpus import write_corpus
from stories.importer import import_paths, runner
from stories.models import Article, ImportedDocument, Provider, Story, Topic
from tests.dbutil import run_manage, scratch_database
from tests.factories import run_import

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


@pytest.fixture(scope="module")
def large_folder(tmp_path_factory):
    """More documents than MIN_PARALLEL, with a twin, a broken document and a story's second document."""
    folder = tmp_path_factory.mktemp("large")
    paths = write_corpus(folder / "corpus", runner.MIN_PARALLEL + 30, seed=7)
    shutil.copy(paths[3], folder / "corpus" / "zz-twin-of-3.md")
    (folder / "corpus" / "zz-broken.md").write_text("---\ntitle: no address\n---\n", encoding="utf-8")
    text = paths[5].read_text(encoding="utf-8")
    (folder / "corpus" / "zz-changed-5.md").write_text(text.replace("title:", "title: Changed", 1), encoding="utf-8")
    return folder


def small_folder(tmp_path, count=5):
    folder = tmp_path / "small"
    write_corpus(folder, count, seed=8)
    return folder


def snapshot():
    """What an import leaves in the database, without ids or times."""
    stories = sorted(
        (
            story.lead.web_url,
            story.published,
            story.category,
            story.heat,
            story.quality,
            story.coverage_count,
            story.outlet_count,
            story.source_file,
            tuple(story.coverage_items.order_by("position").values_list("article__web_url", "position")),
            tuple(sorted(story.topics.values_list("slug", flat=True))),
        )
        for story in Story.objects.select_related("lead")
    )
    articles = sorted(
        Article.objects.values_list("web_url", "title", "excerpt", "provider__domain", "language", "published_at")
    )
    providers = sorted(Provider.objects.values_list("domain", "slug", "name", "led_count", "covered_count"))
    topics = sorted(Topic.objects.values_list("slug", "name", "story_count"))
    documents = sorted(ImportedDocument.objects.values_list("content_hash", "story__lead__web_url", "source_file"))
    return stories, articles, providers, topics, documents


def delete_everything():
    for model in (ImportedDocument, Story, Article, Provider, Topic):
        model.objects.all().delete()


def run(paths, **options):
    errors = []
    report = import_paths(paths, on_error=errors.append, **options)
    return report, errors


# --- how many processes ---------------------------------------------------------


@pytest.mark.parametrize(("cpus", "expected"), [({0}, 1), ({0, 1}, 2), (set(range(16)), runner.MAX_AUTO_JOBS)])
def test_default_jobs_follow_the_cpus_this_process_may_use(monkeypatch, cpus, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: cpus, raising=False)
    assert runner.default_jobs() == expected


@pytest.mark.django_db(transaction=True)
def test_default_on_a_large_folder_parses_in_workers_with_the_same_result_as_one_process(large_folder, monkeypatch):
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)
    parallel, parallel_errors = run([large_folder])
    assert parallel.workers == 2
    parallel_state = snapshot()
    assert len(parallel_state[0]) == runner.MIN_PARALLEL + 30  # the changed document updated its story

    delete_everything()
    alone, alone_errors = run([large_folder], jobs=1)
    assert alone.workers == 0
    assert snapshot() == parallel_state
    assert alone_errors == parallel_errors
    assert len(parallel_errors) == 1 and "zz-broken.md" in parallel_errors[0]
    counts = ("created", "updated", "unchanged", "failed")
    assert [getattr(parallel, name) for name in counts] == [getattr(alone, name) for name in counts]
    assert (parallel.created, parallel.updated, parallel.unchanged, parallel.failed) == (
        runner.MIN_PARALLEL + 30,
        1,
        1,
        1,
    )


@pytest.mark.django_db(transaction=True)
def test_twins_in_batches_parsed_at_once_count_once_and_each_copy_of_a_broken_file_fails(tmp_path):
    """Several batches are with the workers at a time: a file's twins in any of them join it."""
    folder = tmp_path / "twins"
    paths = write_corpus(folder, 12, seed=9)
    broken = "---\ntitle: no address\n---\n"
    for index in (3, 5, 9):  # "0000003-twin.md" sorts just before "0000003.md"
        shutil.copy(paths[0], paths[index].with_name(f"{index:07d}-twin.md"))
    for index in (1, 4, 7, 10):
        paths[index].with_name(f"{index:07d}-broken.md").write_text(broken, encoding="utf-8")
    files = sorted(folder.rglob("*.md"))
    # In batches of 3: the twins one and two batches after the first copy's (still with the workers),
    # and four after (written by then); the broken file's copies two, three and five batches on.
    batch_of = {path.name: files.index(path) // 3 for path in files}
    assert [batch_of[f"{index:07d}-twin.md"] for index in (3, 5, 9)] == [1, 2, 4]
    assert [batch_of[f"{index:07d}-broken.md"] for index in (1, 4, 7, 10)] == [0, 2, 3, 5]
    assert runner.BATCHES_AHEAD >= 2

    report, errors = run([folder], jobs=2, batch_size=3)
    assert report.workers == 2
    assert (report.created, report.updated, report.unchanged, report.failed) == (12, 0, 3, 4)
    assert sorted(line.split(":")[0] for line in errors) == [str(path) for path in files if "broken" in path.name]
    assert ImportedDocument.objects.count() == 12
    parallel_state = snapshot()

    delete_everything()
    alone, alone_errors = run([folder], jobs=1, batch_size=3)
    assert (alone.created, alone.unchanged, alone.failed, alone_errors) == (12, 3, 4, errors)
    assert snapshot() == parallel_state


@pytest.mark.django_db
def test_default_on_a_small_folder_stays_in_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)
    report, errors = run([small_folder(tmp_path)])
    assert (report.workers, report.created, errors) == (0, 5, [])


@pytest.mark.django_db(transaction=True)
def test_default_reimport_of_an_unchanged_large_folder_starts_no_workers(large_folder, monkeypatch):
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)
    run([large_folder], jobs=1)
    report, _ = run([large_folder])
    assert report.workers == 0
    assert report.unchanged == runner.MIN_PARALLEL + 30 + 2  # the twin and the changed document included
    assert report.written == 0


@pytest.mark.django_db
def test_jobs_one_and_invalid_jobs(tmp_path):
    status, out, _ = run_import(small_folder(tmp_path), jobs=1, verbosity=2)
    assert status == 0
    assert "parsed in this process" in out
    with pytest.raises(Exception, match="--jobs and --batch-size must be 1 or more"):
        run_import(small_folder(tmp_path / "again"), jobs=0)


def with_cpus(cpus):
    return lambda: os.sched_setaffinity(0, cpus)


@pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs")
@pytest.mark.django_db
def test_the_plain_command_uses_workers_on_a_large_folder_and_one_process_on_a_small_one(tmp_path, large_folder):
    """Real processes: the command's own default, CPUs as the operating system gives them."""
    with scratch_database(tmp_path) as url:
        large = run_manage(url, "import_stories", str(large_folder), "-v", "2", preexec_fn=with_cpus(set(CPUS[:2])))
        assert large.returncode == 1, large.stderr  # the broken document
        assert "parsed in 2 worker processes" in large.stdout
        assert f"created {runner.MIN_PARALLEL + 30}, updated 1, unchanged 1, failed 1" in large.stdout
        assert "zz-broken.md: " in large.stderr

        small = run_manage(url, "import_stories", str(small_folder(tmp_path)), "-v", "2")
        assert small.returncode == 0, small.stderr
        assert "parsed in this process" in small.stdout
        assert "created 5, updated 0, unchanged 0, failed 0" in small.stdout

    (tmp_path / "one-cpu").mkdir()
    with scratch_database(tmp_path / "one-cpu") as url:
        one_cpu = run_manage(url, "import_stories", str(large_folder), "-v", "2", preexec_fn=with_cpus({CPUS[0]}))
        assert "parsed in this process" in one_cpu.stdout
        assert f"created {runner.MIN_PARALLEL + 30}, updated 1, unchanged 1, failed 1" in one_cpu.stdout


# --- --publish-drafts ------------------------------------------------------------


def drafts_folder(tmp_path):
    folder = tmp_path / "drafts"
    folder.mkdir()
    for name, published in (("draft", "false"), ("public", "true")):
        (folder / f"{name}.md").write_text(
            "---\n"
            f'title: "A {name} story"\n'
            "publishedDateTime: 2024-05-01T12:00:00Z\n"
            f'webUrl: "https://outlet.example/{name}"\n'
            f"published: {published}\n"
            "provider:\n  name: Outlet\n  domain: outlet.example\n"
            "topics:\n  - Demo\n"
            "---\n",
            encoding="utf-8",
        )
    return folder


def published_flags():
    return dict(Story.objects.values_list("lead__web_url", "published"))


DRAFT, PUBLIC = "https://outlet.example/draft", "https://outlet.example/public"


@pytest.mark.django_db
def test_by_default_drafts_stay_drafts(tmp_path):
    status, out, _ = run_import(drafts_folder(tmp_path))
    assert status == 0
    assert published_flags() == {DRAFT: False, PUBLIC: True}
    assert "published" not in out.replace("created", "")


@pytest.mark.django_db
def test_publish_drafts_publishes_them_and_counts_them_visible(tmp_path):
    status, _, _ = run_import(drafts_folder(tmp_path), publish_drafts=True)
    assert status == 0
    assert published_flags() == {DRAFT: True, PUBLIC: True}
    assert Story.objects.get(lead__web_url=DRAFT).editor_decided_at is None  # still the import's flag
    assert Topic.objects.get(slug="demo").story_count == 2


@pytest.mark.django_db
def test_publish_drafts_publishes_drafts_already_imported_from_unchanged_files(tmp_path):
    folder = drafts_folder(tmp_path)
    run_import(folder)
    status, out, _ = run_import(folder, publish_drafts=True)
    assert status == 0
    assert "unchanged 2" in out
    assert "published 1 stored drafts (of unchanged documents)" in out
    assert published_flags() == {DRAFT: True, PUBLIC: True}
    assert Topic.objects.get(slug="demo").story_count == 2


@pytest.mark.django_db
@pytest.mark.parametrize("changed", [False, True], ids=["unchanged file", "changed file"])
def test_publish_drafts_never_overrides_an_editors_unpublish(tmp_path, changed):
    folder = drafts_folder(tmp_path)
    run_import(folder)
    # An editor decided: the draft stays a draft (and the public story is taken off).
    Story.objects.filter(lead__web_url__in=[DRAFT, PUBLIC]).update(published=False, editor_decided_at=timezone.now())
    if changed:
        for path in folder.iterdir():
            path.write_text(path.read_text(encoding="utf-8").replace("title: ", "title: Corrected "), encoding="utf-8")
    status, out, _ = run_import(folder, publish_drafts=True)
    assert status == 0
    assert ("updated 2" if changed else "unchanged 2") in out
    assert published_flags() == {DRAFT: False, PUBLIC: False}
    assert "published 1 stored drafts" not in out


@pytest.mark.django_db
def test_publish_drafts_in_a_dry_run_writes_nothing(tmp_path):
    folder = drafts_folder(tmp_path)
    run_import(folder)
    run_import(folder, publish_drafts=True, dry_run=True)
    assert published_flags() == {DRAFT: False, PUBLIC: True}


def test_publish_drafts_is_documented_in_the_help():
    from stories.management.commands.import_stories import Command

    text = Command().create_parser("manage.py", "import_stories").format_help()
    assert "--publish-drafts" in text
    assert "bundled demo" in text
