"""PostgreSQL only: search folds accents, as SQLite's FTS5 (remove_diacritics) always did.

A text search configuration ``english_unaccent``: the english one with ``unaccent`` before
stemming. The stored search vectors are recomputed with it; stories/search.py queries with it
and the importer writes with it (``PG_SEARCH_CONFIG``). The database user must be allowed to
create the ``unaccent`` extension (a trusted extension since PostgreSQL 13: the database owner may).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS english_unaccent",
    "CREATE TEXT SEARCH CONFIGURATION english_unaccent (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION english_unaccent "
    "ALTER MAPPING FOR word, hword, hword_part WITH unaccent, english_stem",
    "UPDATE stories_story SET search_vector = to_tsvector('english_unaccent'::regconfig, search_text)",
]
BACKWARD = [
    "UPDATE stories_story SET search_vector = to_tsvector('english'::regconfig, search_text)",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS english_unaccent",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("stories", "0011_search_grams")]

    operations = [migrations.RunPython(forward, backward)]
