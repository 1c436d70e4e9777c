"""Unicode story slugs: Story.slug keeps the letters of every script, and the stored slugs are recomputed.

A Japanese or Chinese headline had the slug "story" (slugify dropped every
non-Latin letter); it now has its headline's words. The old address still works:
story_detail redirects any slug that differs to the story's own address.
"""

from django.db import migrations, models
from django.utils.text import slugify

SLUG_LENGTH = 80  # as stories/importer/derived.py SLUG_LENGTH, frozen here
BATCH = 1000


def slug_of(title, allow_unicode):
    return slugify(title, allow_unicode=allow_unicode)[:SLUG_LENGTH].strip("-") or "story"


def recompute(allow_unicode):
    def run(apps, schema_editor):
        Story = apps.get_model("stories", "Story")
        stories = Story.objects.using(schema_editor.connection.alias).order_by("pk")
        changed = []
        for story in stories.only("pk", "slug", "lead__title").select_related("lead").iterator(chunk_size=BATCH):
            slug = slug_of(story.lead.title, allow_unicode)
            if slug != story.slug:
                story.slug = slug
                changed.append(story)
        Story.objects.using(schema_editor.connection.alias).bulk_update(changed, ["slug"], batch_size=BATCH)

    return run


class Migration(migrations.Migration):
    dependencies = [("stories", "0007_search_trigram")]

    operations = [
        # State only: the column (varchar 120) does not change, and an AlterField would make
        # SQLite rebuild stories_story, dropping the triggers that keep the FTS5 tables current.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="story",
                    name="slug",
                    field=models.SlugField(
                        allow_unicode=True,
                        help_text="Readable part of the address, from the headline.",
                        max_length=120,
                    ),
                )
            ]
        ),
        migrations.RunPython(recompute(allow_unicode=True), recompute(allow_unicode=False)),
    ]
