"""Two imports of overlapping files at once, in real processes, on the test run's kind of database."""

import re
import shutil

import pytest

from bench.make_corpus import write_corpus
from tests.dbutil import query, scratch_database, start_manage

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SUMMARY = re.compile(r"created (\d+), updated (\d+), unchanged (\d+), failed (\d+)")


def test_two_overlapping_imports_at_once_finish_without_duplicates(tmp_path):
    corpus = tmp_path / "corpus"
    paths = write_corpus(corpus, 240, seed=3, related=(2, 8))
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for index, path in enumerate(paths):
        if index < 160:
            shutil.copy(path, first / path.name)
        if index >= 80:
            shutil.copy(path, second / path.name)

    with scratch_database(tmp_path) as url:
        procs = [start_manage(url, "import_stories", str(folder), "--batch-size", "20") for folder in (first, second)]
        results = [(*proc.communicate(timeout=300), proc.returncode) for proc in procs]
        for (out, err, code), expected in zip(results, (160, 160), strict=True):
            assert code == 0, err
            assert "locked" not in err and "Traceback" not in err
            created, updated, unchanged, failed = map(int, SUMMARY.search(out).groups())
            assert failed == 0
            assert created + updated + unchanged == expected

        counts = query(
            url,
            "from stories.models import *; from django.db.models import Count;"
            "print(Story.objects.count(), Article.objects.count(),"
            " Article.objects.values('web_url').annotate(n=Count('id')).filter(n__gt=1).count(),"
            " Story.objects.values('lead_id').annotate(n=Count('id')).filter(n__gt=1).count())",
        )
        stories, articles, duplicate_urls, duplicate_leads = map(int, counts.split())
        assert stories == 240
        assert duplicate_urls == 0 and duplicate_leads == 0

        # A clean, single import of the same files gives the same rows.
        clean = tmp_path / "clean"
        clean.mkdir()
        with scratch_database(clean) as clean_url:
            out = start_manage(clean_url, "import_stories", str(corpus)).communicate(timeout=300)[0]
            assert "failed 0" in out
            clean_counts = query(
                clean_url, "from stories.models import *; print(Story.objects.count(), Article.objects.count())"
            )
        assert clean_counts == f"{stories} {articles}"
