"""Search in every script: substrings of Japanese and Chinese headlines and excerpts, on either database,
with Latin words still stemmed and accent-folded; the bounded count and the marked matching text."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from stories import takedown
from stories.models import Article, Story
from stories.scripts import search_grams, search_runs
from stories.search import (
    match_count_label,
    more_than_bound,
    search_stories,
    search_terms,
    snippet,
)
from tests.dbutil import empty_database, run_manage
from tests.factories import BASE_TIME, make_article, make_story
from tests.views.helpers import page, text

pytestmark = pytest.mark.django_db

ROKI = "佐々木朗希、メジャー初勝利　ドジャース"
CORONA = "新型コロナ　5類移行後の感染者数が増加"
THAILAND = "中国和泰国签署免签协定"


def titles(queryset):
    return {story.lead.title for story in queryset.select_related("lead")}


@pytest.fixture
def asian_stories():
    make_story(ROKI, lead={"excerpt": "大谷翔平も祝福した。"})
    make_story(CORONA)
    make_story("Mekong summit", coverage=[make_article(title="Regional news", excerpt=THAILAND)])
    make_story("Tokyo café opens", lead={"excerpt": "A new café in Shibuya."})


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("佐々木", {ROKI}),  # 3 characters of a 5-character run
        ("佐々木朗希", {ROKI}),
        ("新型コロナ", {CORONA}),
        ("泰国", {"Mekong summit"}),  # 2 characters, in a coverage excerpt
        ("泰", {"Mekong summit"}),  # 1 character
        ("翔平", {ROKI}),  # in the lead's excerpt
        ("ドジャース 佐々木", {ROKI}),  # every run required
        ("ドジャース 新型コロナ", set()),
        ("コロナウイルス", set()),
    ],
)
def test_runs_of_spaceless_scripts_match_as_substrings(asian_stories, query, found):
    assert titles(Story.objects.search(query)) == found


def test_a_mixed_query_requires_the_latin_word_and_the_cjk_run(asian_stories):
    make_story("Dodgers sign 佐々木朗希")
    assert titles(Story.objects.search("dodgers 佐々木")) == {"Dodgers sign 佐々木朗希"}
    assert titles(Story.objects.search("佐々木 tokyo")) == set()


def test_latin_words_stay_stemmed_and_accent_folded(asian_stories):
    make_story("Protesters reach the cafe district")
    assert titles(Story.objects.search("opening café")) == {"Tokyo café opens"}
    # Accents are folded both ways, on both databases (PostgreSQL: migration 0012's configuration).
    assert titles(Story.objects.search("cafe")) == {"Tokyo café opens", "Protesters reach the cafe district"}
    assert titles(Story.objects.search("CAFÉS")) == {"Tokyo café opens", "Protesters reach the cafe district"}
    assert titles(Story.objects.search("protester café")) == {"Protesters reach the cafe district"}


def test_a_reimported_story_is_found_by_its_new_cjk_words_only():
    story = make_story("北京で会議")
    assert titles(Story.objects.search("北京")) == {"北京で会議"}
    Story.objects.filter(pk=story.pk).update(
        search_text="上海で会議", search_grams=search_grams("上海で会議"), search_runs=search_runs("上海で会議")
    )
    assert not Story.objects.search("北京").exists()
    assert not Story.objects.search("北").exists()
    assert not Story.objects.search("北京で会").exists()
    assert titles(Story.objects.search("上海で会")) == {"北京で会議"}


def test_search_terms_split_words_from_runs_of_spaceless_scripts():
    assert search_terms("東京 Olympics 新型コロナ iPhone新型 東京") == (
        ["olympics", "iphone"],
        ["東京", "新型コロナ", "新型"],
    )
    assert search_terms("「東京」") == ([], ["東京"])


def test_the_count_is_bounded():
    for i in range(4):
        make_story(f"Budget story {i}")
    counted = search_stories(Story.objects.all(), "budget", bound=2)
    assert len(counted) == 2 and all(more_than_bound(story, bound=2) for story in counted)  # "more than 2"
    counted = search_stories(Story.objects.all(), "budget", bound=10)
    assert counted[0].search_count == 4 and not more_than_bound(counted[0], bound=10)
    assert match_count_label(3, bound=2) == "More than 2 stories match"
    assert match_count_label(1) == "1 story matches"
    assert match_count_label(1000) == "1,000 stories match"
    assert match_count_label(1001) == "More than 1,000 stories match"


def test_a_snippet_marks_the_words_in_the_line_that_holds_most_of_them():
    search_text = "Budget news\nPolice are recognizing faces in crowds\nPolice elsewhere"
    assert snippet(search_text, "recognize police") == (
        "<mark>Police</mark> are <mark>recognizing</mark> faces in crowds"
    )
    assert snippet(ROKI + "\nother", "佐々木") == "<mark>佐々木</mark>朗希、メジャー初勝利　ドジャース"
    assert snippet("Nothing here", "zebra") == ""


def test_a_snippet_is_built_from_escaped_text():
    hostile = "<script>alert('x')</script> Police & <b>thieves</b>"
    assert snippet(hostile, "police") == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <mark>Police</mark> &amp; &lt;b&gt;thieves&lt;/b&gt;"
    )


def test_a_long_line_is_cut_around_its_first_match():
    line = "word " * 100 + "zebra" + " tail" * 100
    shown = snippet(line, "zebra", length=60)
    assert shown.startswith("…") and shown.endswith("…") and "<mark>zebra</mark>" in shown
    assert len(shown.replace("<mark>", "").replace("</mark>", "")) == 62


def test_the_results_page_counts_and_marks_the_matches(client, asian_stories):
    make_story("Another 新型コロナ story", coverage=[{"title": "Follow-up", "excerpt": "新型コロナの新変異株"}])
    found = page(client.get("/search/", {"q": "新型コロナ"}))
    assert "2 stories match." in found.text
    marks = [mark.text for mark in found.iter() if mark.tag == "mark"]
    assert marks == ["新型コロナ", "新型コロナ"]
    matches = [p.text for p in found.iter() if "search-match" in p.tokens("class")]
    assert any("新型コロナ 5類移行後" in shown or "新型コロナ　5類移行後" in shown for shown in matches)
    assert "1 story matches." in text(client.get("/search/", {"q": "泰国"}))
    assert "match." not in text(client.get("/search/", {"q": "zebra"}))


def test_a_hostile_headline_is_text_in_the_matching_text(client):
    make_story("<script>alert('pwned')</script> police chief", lead={"excerpt": "<img src=x onerror=alert(1)> police"})
    response = client.get("/search/", {"q": "police"})
    body = response.content.decode()
    assert "<script>alert('pwned')" not in body and "<img src=x" not in body
    found = page(response)
    matches = [p for p in found.iter() if "search-match" in p.tokens("class")]
    assert matches and "<script>alert('pwned')</script>" in matches[0].text
    assert not [e for e in found.iter() if e.tag == "script" and "pwned" in e.text]


def test_search_grams_are_the_characters_and_pairs_of_each_run():
    assert search_grams("東京で 5G、泰国") == "東 東京 京 京で で 泰 泰国 国"
    assert search_grams("ドナルド・トランプ").split()[:4] == ["ド", "ドナ", "ナ", "ナル"]
    assert "ド・" in search_grams("ドナルド・トランプ").split()  # a pair across the middle dot is one gram
    assert search_grams("Latin only, 2024") is None
    assert search_grams("") is None and search_grams(None) is None


def test_short_runs_find_every_story_however_old(client):
    for day in range(30):  # newer stories than the old one, none holding the run
        make_story(f"東京 news {day}", published_at=BASE_TIME - timedelta(days=day))
    make_story("泰国 old", published_at=BASE_TIME - timedelta(days=4000))
    make_story("泰国 draft", published=False)
    assert titles(Story.objects.published().search("泰国")) == {"泰国 old"}
    assert titles(Story.objects.published().search("泰")) == {"泰国 old"}
    assert titles(Story.objects.published().search("国")) == {"泰国 old"}
    assert len(titles(Story.objects.published().search("東京"))) == 30
    assert not Story.objects.search("京泰").exists()  # two characters of the texts, never side by side
    assert not Story.objects.search("ド・").exists()
    shown = text(client.get("/search/", {"q": "泰国"}))
    assert "1 story matches." in shown and "stories only" not in shown  # no "newest 20,000 stories only"


def test_a_mixed_query_of_a_word_and_short_runs_requires_all_of_them():
    make_story("Dodgers sign 朗希", lead={"excerpt": "東京 fans cheer"})
    make_story("Dodgers lose", lead={"excerpt": "東京 fans cry"})
    make_story("Giants sign 朗希")
    make_story("ドナルド・トランプ")
    assert titles(Story.objects.search("dodgers 朗希")) == {"Dodgers sign 朗希"}
    assert titles(Story.objects.search("朗希 東京 dodgers")) == {"Dodgers sign 朗希"}
    assert titles(Story.objects.search("dodgers 東京")) == {"Dodgers sign 朗希", "Dodgers lose"}
    assert titles(Story.objects.search("佐々木 朗希")) == set()
    assert titles(Story.objects.search("ド・")) == {"ドナルド・トランプ"}


DOC = """---
title: "{title}"
publishedDateTime: 2024-03-01T10:00:00Z
webUrl: "https://lead.example.org/story"
published: true
provider:
  name: "Lead Daily"
  domain: lead.example.org
related:
  - title: "{item}"
    publishedDateTime: 2024-03-01T11:00:00Z
    webUrl: "https://item.example.org/item"
    provider:
      name: "Item Wire"
      domain: item.example.org
---
"""


def test_the_grams_follow_an_import_a_reimport_and_a_takedown(tmp_path):
    doc = tmp_path / "story.md"
    doc.write_text(DOC.format(title="Summit news", item="中国和泰国签署协定"))
    call_command("import_stories", str(tmp_path), verbosity=0)
    assert titles(Story.objects.published().search("泰国")) == {"Summit news"}

    doc.write_text(DOC.format(title="Summit news", item="北京で会議"))  # a newer version of the item
    call_command("import_stories", str(tmp_path), verbosity=0)
    assert not Story.objects.search("泰国").exists()
    assert titles(Story.objects.published().search("北京")) == {"Summit news"}

    story = Story.objects.get()
    item = Article.objects.get(web_url="https://item.example.org/item")
    takedown.hide_coverage(story, item, "Legal request")
    assert not Story.objects.search("北京").exists() and not Story.objects.search("会").exists()
    story.refresh_from_db()
    assert story.search_grams is None
    takedown.restore_coverage(story, item)
    assert titles(Story.objects.published().search("会")) == {"Summit news"}


def explain(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


def test_short_runs_are_served_by_the_grams_index():
    make_story(CORONA)
    make_story(THAILAND)
    if connection.vendor == "sqlite":
        assert "stories_story_grams" in explain(Story.objects.search("泰国"))
        assert "stories_story_grams" in explain(Story.objects.search("facial 泰"))
        assert "stories_story_grams" not in explain(Story.objects.search("新型コロナ"))
    else:
        assert "story_search_grams" in explain(Story.objects.search("泰国"))
        assert "story_search_grams" in explain(Story.objects.search("泰 国"))
        assert "story_search_grams" not in explain(Story.objects.search("新型コロナ"))


# In a scratch database: 0011 applied, reversed and applied again around a story stored at 0010.
MIGRATION_CHECK = """
import json
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

def migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([("stories", target)])
    return MigrationExecutor(connection).loader.project_state(("stories", target)).apps

def columns():
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, "stories_story")]

def found(run):
    from stories.models import Story
    return list(Story.objects.search(run).values_list("lead__title", flat=True))

apps = migrate("0010_picture_credit")
provider = apps.get_model("stories", "Provider").objects.create(name="Wire", domain="wire.example", slug="wire")
article = apps.get_model("stories", "Article").objects.create(
    title="泰国签证", web_url="https://wire.example/a", provider=provider, published_at="2024-01-01T00:00:00Z"
)
apps.get_model("stories", "Story").objects.create(
    lead=article, slug="a", published_at=article.published_at, search_text="泰国签证", published=True
)
report = {"before": "search_grams" in columns()}
migrate("0011_search_grams")
report["forward"] = found("泰国") + found("证")
with connection.cursor() as cursor:
    triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger'" if connection.vendor == "sqlite" else "SELECT 1"
    cursor.execute(triggers)
    report["triggers"] = sorted(str(row[0]) for row in cursor.fetchall())
migrate("0010_picture_credit")
report["back"] = "search_grams" in columns()
migrate("0011_search_grams")
report["again"] = found("签证")
print(json.dumps(report))
"""


def migration_report(tmp_path, prefix, script):
    """What a migration check script printed last (JSON), run by manage.py shell in a scratch database."""
    with empty_database(tmp_path, prefix=prefix) as url:
        result = run_manage(url, "shell", "-c", script)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_migration_fills_the_grams_and_reverses(tmp_path):
    report = migration_report(tmp_path, "grams", MIGRATION_CHECK)
    assert report["before"] is False and report["back"] is False
    assert report["forward"] == ["泰国签证", "泰国签证"] and report["again"] == ["泰国签证"]
    if connection.vendor == "sqlite":  # added in place: the triggers of 0004 and 0007 survive
        expected = {"stories_story_fts_update", "stories_story_trigram_update", "stories_story_grams_update"}
        assert expected <= set(report["triggers"])


def test_search_runs_are_the_distinct_runs_the_trigrams_can_serve():
    assert (
        search_runs("新型コロナ in Tokyo: 東京 新型コロナ、佐々木朗希 visits ไทยแลนด์")
        == "新型コロナ 佐々木朗希 ไทยแลนด์"
    )
    assert search_runs("東京 and 泰国") is None  # runs of 2: the grams serve them
    assert search_runs("Only Latin words") is None
    assert search_runs(None) is None


def test_a_long_run_is_not_found_in_latin_text_or_across_two_runs():
    make_story("Tokyo: 新型コロナ spreads")
    make_story("新型 and コロナ apart")
    assert titles(Story.objects.search("新型コロナ")) == {"Tokyo: 新型コロナ spreads"}
    assert titles(Story.objects.search("コロナ")) == {"Tokyo: 新型コロナ spreads", "新型 and コロナ apart"}
    assert titles(Story.objects.search("型コロ")) == {"Tokyo: 新型コロナ spreads"}


# In a scratch database: 0013 applied, reversed and applied again around a story stored at 0012.
RUNS_MIGRATION_CHECK = (
    MIGRATION_CHECK.split("def found(run):")[0]
    + """
def trigram_index():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM pragma_table_info('stories_story_trigram')")
            columns = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "SELECT rowid FROM stories_story_trigram WHERE stories_story_trigram MATCH %s", ['"新型コロナ"']
            )
            return columns, len(cursor.fetchall())
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s ORDER BY 1", ["story_search_%_trgm"])
        names = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT id FROM stories_story WHERE search_text LIKE %s", ["%新型コロナ%"])
        return names, len(cursor.fetchall())

apps = migrate("0012_unaccented_search")
provider = apps.get_model("stories", "Provider").objects.create(name="Wire", domain="wire.example", slug="wire")
article = apps.get_model("stories", "Article").objects.create(
    title="新型コロナ in Tokyo", web_url="https://wire.example/a", provider=provider,
    published_at="2024-01-01T00:00:00Z",
)
apps.get_model("stories", "Story").objects.create(
    lead=article, slug="a", published_at=article.published_at, search_text="新型コロナ in Tokyo", published=True
)
report = {"before": trigram_index()}
apps = migrate("0013_search_runs")
report["runs"] = list(apps.get_model("stories", "Story").objects.values_list("search_runs", flat=True))
report["forward"] = trigram_index()
from stories.models import Story
report["found"] = list(Story.objects.search("新型コロナ").values_list("lead__title", flat=True))
migrate("0012_unaccented_search")
report["back"] = (trigram_index(), "search_runs" in columns())
migrate("0013_search_runs")
report["again"] = list(Story.objects.search("新型コロナ").values_list("lead__title", flat=True))
print(json.dumps(report))
"""
)


def test_the_runs_migration_moves_the_trigram_index_and_reverses(tmp_path):
    report = migration_report(tmp_path, "runs", RUNS_MIGRATION_CHECK)
    assert report["runs"] == ["新型コロナ"]
    assert report["found"] == ["新型コロナ in Tokyo"] and report["again"] == ["新型コロナ in Tokyo"]
    if connection.vendor == "sqlite":
        assert report["before"] == [["search_text"], 1]
        assert report["forward"] == [["search_runs"], 1]
        assert report["back"] == [[["search_text"], 1], False]
    else:
        assert report["before"] == [["story_search_text_trgm"], 1]
        assert report["forward"] == [["story_search_runs_trgm"], 1]
        assert report["back"] == [[["story_search_text_trgm"], 1], False]


def test_runs_of_three_characters_or_more_are_served_by_the_trigram_index():
    make_story(CORONA)
    if connection.vendor == "sqlite":
        assert "stories_story_trigram MATCH" in str(Story.objects.search("新型コロナ").query)
        assert "stories_story_trigram" not in str(Story.objects.search("泰国").query)
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'story_search_runs_trgm'")
            assert cursor.fetchone() == (1,)
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            assert cursor.fetchone() == (1,)


def test_a_query_of_signs_only_finds_nothing_and_counts_nothing(client):
    make_story("Anything")
    assert Story.objects.search("、「」").count() == 0
    assert Story.objects.search("'*()").count() == 0
    response = client.get("/search/", {"q": "'*()"})
    assert response.status_code == 200 and "No story holds all these words" in text(response)


def test_the_label_says_when_a_page_shows_only_the_newest_matches():
    assert match_count_label(1000, more=True) == "More than 1,000 stories match: showing the newest 1,000"
    assert (
        match_count_label(2, bound=2, more=True, ranked=True)
        == "More than 2 stories match: showing the best of the newest 2"
    )
    assert (
        match_count_label(37, more=True)
        == "More than 1,000 stories hold these words: showing the 37 among the newest 1,000"
    )
