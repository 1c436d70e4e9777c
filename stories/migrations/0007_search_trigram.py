"""Trigram indexes over Story.search_text: substring search for scripts without spaces (stories/search.py).

- PostgreSQL: the pg_trgm extension (trusted since PostgreSQL 13: a database
  owner may create it) and a GIN index of search_text's trigrams, which serves
  ``search_text LIKE '%新型コロナ%'``. An index on the column: it follows every
  write by itself.
- SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34+), external
  content like migration 0004's, kept up to date by triggers.
"""

from django.db import migrations

POSTGRESQL_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS story_search_text_trgm ON stories_story USING gin (search_text gin_trgm_ops)",
]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS story_search_text_trgm"]  # the extension may serve others: it stays

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS stories_story_trigram USING fts5("
    "search_text, content='stories_story', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS stories_story_trigram_insert AFTER INSERT ON stories_story BEGIN "
    "INSERT INTO stories_story_trigram(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS stories_story_trigram_delete AFTER DELETE ON stories_story BEGIN "
    "INSERT INTO stories_story_trigram(stories_story_trigram, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS stories_story_trigram_update AFTER UPDATE OF search_text ON stories_story BEGIN "
    "INSERT INTO stories_story_trigram(stories_story_trigram, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO stories_story_trigram(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO stories_story_trigram(stories_story_trigram) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS stories_story_trigram_insert",
    "DROP TRIGGER IF EXISTS stories_story_trigram_delete",
    "DROP TRIGGER IF EXISTS stories_story_trigram_update",
    "DROP TABLE IF EXISTS stories_story_trigram",
]
CREATE = {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}
DROP = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}


def create(apps, schema_editor):
    for statement in CREATE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("stories", "0006_article_language")]

    operations = [migrations.RunPython(create, drop)]
