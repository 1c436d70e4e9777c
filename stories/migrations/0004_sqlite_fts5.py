"""SQLite only: an FTS5 index over Story.search_text, kept up to date by triggers.

It is what the search asks on SQLite (PostgreSQL uses the search_vector column
and its GIN index, migration 0003). External content: the index stores no copy
of the text; the triggers follow every insert, update and delete, including the
importer's raw upserts.
"""

from django.db import migrations

CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS stories_story_fts USING fts5("
    "search_text, content='stories_story', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS stories_story_fts_insert AFTER INSERT ON stories_story BEGIN "
    "INSERT INTO stories_story_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS stories_story_fts_delete AFTER DELETE ON stories_story BEGIN "
    "INSERT INTO stories_story_fts(stories_story_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS stories_story_fts_update AFTER UPDATE OF search_text ON stories_story BEGIN "
    "INSERT INTO stories_story_fts(stories_story_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO stories_story_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO stories_story_fts(stories_story_fts) VALUES ('rebuild')",
]
DROP = [
    "DROP TRIGGER IF EXISTS stories_story_fts_insert",
    "DROP TRIGGER IF EXISTS stories_story_fts_delete",
    "DROP TRIGGER IF EXISTS stories_story_fts_update",
    "DROP TABLE IF EXISTS stories_story_fts",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("stories", "0003_story_search_vector")]

    operations = [migrations.RunPython(create, drop)]
