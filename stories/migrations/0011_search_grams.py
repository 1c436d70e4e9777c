"""Story.search_grams and its index: runs of 1 or 2 CJK (or Thai...) characters found over every story.

A run that short makes no trigram (migration 0007), so it was looked for by a scan of the newest
stories only. ``search_grams`` holds every character and 2-character pair of the story's spaceless
runs (``stories.scripts.search_grams``, what the importer stores), and is indexed:

- PostgreSQL: a GIN index of ``string_to_array(search_grams, ' ')`` (an immutable expression),
  which serves ``... @> ARRAY['東京']`` (``stories.search.GramArray`` spells it the same).
- SQLite: an FTS5 table over search_grams with external content and triggers, like 0004's. Its
  tokenizer is ``ascii``: every non-ASCII character is a token character, so each gram is exactly
  one token (``unicode61`` splits ``ド・`` at the katakana middle dot and Thai marks).

The column has no default, so SQLite adds it in place: rebuilding stories_story would drop the
triggers of 0004 and 0007. Stored stories are filled from search_text in chunks of ids.
"""

from django.db import migrations, models

from stories.scripts import search_grams

CHUNK = 2000

POSTGRESQL_CREATE = [
    "CREATE INDEX IF NOT EXISTS story_search_grams ON stories_story USING gin ((string_to_array(search_grams, ' ')))",
]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS story_search_grams"]
SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS stories_story_grams USING fts5("
    "search_grams, content='stories_story', content_rowid='id', tokenize='ascii')",
    "CREATE TRIGGER IF NOT EXISTS stories_story_grams_insert AFTER INSERT ON stories_story BEGIN "
    "INSERT INTO stories_story_grams(rowid, search_grams) VALUES (new.id, new.search_grams); END",
    "CREATE TRIGGER IF NOT EXISTS stories_story_grams_delete AFTER DELETE ON stories_story BEGIN "
    "INSERT INTO stories_story_grams(stories_story_grams, rowid, search_grams) "
    "VALUES ('delete', old.id, old.search_grams); END",
    "CREATE TRIGGER IF NOT EXISTS stories_story_grams_update AFTER UPDATE OF search_grams ON stories_story BEGIN "
    "INSERT INTO stories_story_grams(stories_story_grams, rowid, search_grams) "
    "VALUES ('delete', old.id, old.search_grams); "
    "INSERT INTO stories_story_grams(rowid, search_grams) VALUES (new.id, new.search_grams); END",
    "INSERT INTO stories_story_grams(stories_story_grams) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS stories_story_grams_insert",
    "DROP TRIGGER IF EXISTS stories_story_grams_delete",
    "DROP TRIGGER IF EXISTS stories_story_grams_update",
    "DROP TABLE IF EXISTS stories_story_grams",
]
CREATE = {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}
DROP = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}


def fill(apps, schema_editor):
    """Store the grams of every story that has some, reading ids and texts a chunk at a time."""
    story_model = apps.get_model("stories", "Story")
    stories = story_model.objects.using(schema_editor.connection.alias)
    last = 0
    while True:
        rows = list(stories.filter(pk__gt=last).order_by("pk").values_list("pk", "search_text")[:CHUNK])
        if not rows:
            return
        changed = [story_model(pk=pk, search_grams=grams) for pk, text in rows if (grams := search_grams(text))]
        stories.bulk_update(changed, ["search_grams"])
        last = rows[-1][0]


def create(apps, schema_editor):
    for statement in CREATE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("stories", "0010_picture_credit")]

    operations = [
        migrations.AddField(
            model_name="story",
            name="search_grams",
            field=models.TextField(
                blank=True,
                editable=False,
                help_text="Every character and 2-character pair of search_text's CJK/Thai runs, space-separated "
                "(search).",
                null=True,
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(create, drop),
    ]
