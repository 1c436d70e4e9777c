"""Coverage takedown: editors hide one coverage item from one story, or an article everywhere (stories.takedown)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("stories", "0008_unicode_slugs")]

    operations = [
        migrations.AddField(
            model_name="article",
            name="hidden_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When an editor hid this article from every story; re-imports never show it again.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="article",
            name="hidden_reason",
            field=models.TextField(
                blank=True, db_default="", editable=False, help_text="Why it was hidden everywhere."
            ),
        ),
        migrations.AddField(
            model_name="coverage",
            name="hidden",
            field=models.BooleanField(default=False, editable=False, help_text="Taken down by an editor: never shown."),
        ),
        migrations.CreateModel(
            name="CoverageTakedown",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "reason",
                    models.TextField(help_text="Why the item was hidden (a legal request, a dead or wrong link...)."),
                ),
                ("hidden_at", models.DateTimeField()),
                (
                    "article",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="takedowns",
                        to="stories.article",
                    ),
                ),
                (
                    "story",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="takedowns",
                        to="stories.story",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["article"], name="takedown_article_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("story", "article"), name="takedown_unique_article_per_story")
                ],
            },
        ),
    ]
