"""Story.search_runs: the trigram indexes read a story's CJK (or Thai...) runs of 3+ characters, not all its text.

Migration 0007 indexed the whole search_text by trigrams, to find runs of scripts written
without spaces. Most of that text is Latin headlines and excerpts, which a trigram never
serves (words have their own index): on SQLite the trigram table's trigger was about a third
of an import's time. ``search_runs`` holds the runs alone (``stories.scripts.search_runs``,
what the importer stores), and the same search finds the same stories:

- PostgreSQL: the GIN trigram index moves from search_text to search_runs
  (``search_runs LIKE '%run%'``).
- SQLite: the FTS5 ``trigram`` table (same name, same triggers' names) now has search_runs
  as its external content.

The column has no default, so SQLite adds it in place (a rebuild of stories_story would drop
the triggers of 0004 and 0011). Stored stories are filled from search_text in chunks of ids.
"""

from django.db import migrations, models

from stories.scripts import search_runs

CHUNK = 2000


def trigram_table(column):
    """The SQLite FTS5 trigram table over ``column`` of stories_story, its triggers, and its rebuild."""
    # ``column`` is one of this migration's two column names: no value from outside is in the SQL.
    return [
        "CREATE VIRTUAL TABLE IF NOT EXISTS stories_story_trigram USING fts5("
        f"{column}, content='stories_story', content_rowid='id', tokenize='trigram')",
        "CREATE TRIGGER IF NOT EXISTS stories_story_trigram_insert AFTER INSERT ON stories_story BEGIN "  # nosec B608: our own column name
        f"INSERT INTO stories_story_trigram(rowid, {column}) VALUES (new.id, new.{column}); END",
        "CREATE TRIGGER IF NOT EXISTS stories_story_trigram_delete AFTER DELETE ON stories_story BEGIN "  # nosec B608: our own column name
        f"INSERT INTO stories_story_trigram(stories_story_trigram, rowid, {column}) "
        f"VALUES ('delete', old.id, old.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS stories_story_trigram_update AFTER UPDATE OF {column} ON stories_story BEGIN "  # nosec B608: our own column name
        f"INSERT INTO stories_story_trigram(stories_story_trigram, rowid, {column}) "
        f"VALUES ('delete', old.id, old.{column}); "
        f"INSERT INTO stories_story_trigram(rowid, {column}) VALUES (new.id, new.{column}); END",
        "INSERT INTO stories_story_trigram(stories_story_trigram) VALUES ('rebuild')",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS stories_story_trigram_insert",
    "DROP TRIGGER IF EXISTS stories_story_trigram_delete",
    "DROP TRIGGER IF EXISTS stories_story_trigram_update",
    "DROP TABLE IF EXISTS stories_story_trigram",
]


def postgresql_index(column):
    return [f"CREATE INDEX IF NOT EXISTS story_{column}_trgm ON stories_story USING gin ({column} gin_trgm_ops)"]


def index(column, other):
    """The trigram index over ``column``, the one over ``other`` dropped first."""

    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            statements = [*SQLITE_DROP, *trigram_table(column)]
        elif vendor == "postgresql":
            statements = [f"DROP INDEX IF EXISTS story_{other}_trgm", *postgresql_index(column)]
        else:
            statements = []
        for statement in statements:
            schema_editor.execute(statement)

    return run


def fill(apps, schema_editor):
    """Store the runs of every story that has some, reading ids and texts a chunk at a time."""
    story_model = apps.get_model("stories", "Story")
    stories = story_model.objects.using(schema_editor.connection.alias)
    last = 0
    while True:
        rows = list(stories.filter(pk__gt=last).order_by("pk").values_list("pk", "search_text")[:CHUNK])
        if not rows:
            return
        changed = [story_model(pk=pk, search_runs=runs) for pk, text in rows if (runs := search_runs(text))]
        stories.bulk_update(changed, ["search_runs"])
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("stories", "0012_unaccented_search")]

    operations = [
        migrations.AddField(
            model_name="story",
            name="search_runs",
            field=models.TextField(
                blank=True,
                editable=False,
                help_text="search_text's CJK/Thai runs of 3 characters or more, space-separated: what the trigram "
                "index reads (search).",
                null=True,
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        # Forward: the trigram index moves to search_runs; backward: back to search_text (0007's).
        migrations.RunPython(index("search_runs", "search_text"), index("search_text", "search_runs")),
    ]
