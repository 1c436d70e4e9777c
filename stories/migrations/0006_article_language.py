"""Each article's language: a column, filled in for the articles already stored.

Documents already imported are skipped by a re-import (their content has not
changed), so their articles' languages are detected here, in batches.
"""

from django.db import migrations, models

BATCH = 2000


def detect_stored_languages(apps, schema_editor):
    from stories.languages import detect_language

    Article = apps.get_model("stories", "Article")
    manager = Article.objects.db_manager(schema_editor.connection.alias)
    articles = manager.only("id", "title", "excerpt")
    batch = []
    for article in articles.order_by("id").iterator(chunk_size=BATCH):
        article.language = detect_language(article.title, article.excerpt)
        batch.append(article)
        if len(batch) >= BATCH:
            manager.bulk_update(batch, ["language"])
            batch = []
    if batch:
        manager.bulk_update(batch, ["language"])


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0005_drop_redundant_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="language",
            field=models.CharField(
                default="unknown",
                help_text="The language of its headline and excerpt (a code such as en, fr, ja): from the document, "
                "else detected at import; “unknown” when the detector was unsure. Pages mark the text with it.",
                max_length=35,
            ),
        ),
        migrations.RunPython(detect_stored_languages, migrations.RunPython.noop, elidable=True),
    ]
