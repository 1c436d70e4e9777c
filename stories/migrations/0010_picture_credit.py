"""Picture credit and allowed picture URLs: stored pictures follow ``stories.pictures``, and credit their outlet.

1. Articles' pictures the policy refuses (``http:`` ones, above all: the CSP blocks
   them) are dropped, as the importer now drops them.
2. Every story's picture is chosen again as the importer now chooses it
   (``stories.importer.derived.story_image``): the lead's first picture, else the
   first shown coverage item's, with ``credit`` (the outlet's name and slug) when
   it is another outlet's.

Reads in chunks of ids, writes only rows that change. Reversing keeps the data.
"""

from django.db import migrations

from stories.pictures import refusal

CHUNK = 1000


def _chunks(queryset):
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]


def drop_refused_pictures(article_model):
    for ids in _chunks(article_model.objects.all()):
        changed = []
        for article in article_model.objects.filter(pk__in=ids).only("pk", "images"):
            images = article.images if isinstance(article.images, list) else []
            kept = [image for image in images if isinstance(image, dict) and refusal(image.get("url")) is None]
            if kept != article.images:
                article.images = kept
                changed.append(article)
        article_model.objects.bulk_update(changed, ["images"])


def credit_pictures(story_model, coverage_model):
    for ids in _chunks(story_model.objects.all()):
        coverage = {}
        items = (
            coverage_model.objects.filter(story_id__in=ids, hidden=False)
            .order_by("story_id", "position")
            .values_list("story_id", "article__images", "article__provider__domain", "article__provider__name",
                         "article__provider__slug")
        )  # fmt: skip
        for story_id, *item in items:
            coverage.setdefault(story_id, []).append(item)
        changed = []
        stories = (
            story_model.objects.filter(pk__in=ids)
            .select_related("lead__provider")
            .only(
                "pk", "image", "lead__images", "lead__provider__domain", "lead__provider__name", "lead__provider__slug"
            )
        )
        for story in stories:
            lead = story.lead.provider
            candidates = [(story.lead.images, lead.domain, lead.name, lead.slug), *coverage.get(story.pk, [])]
            image = None
            for images, domain, name, slug in candidates:
                if images:
                    image = dict(images[0])
                    if domain != lead.domain:
                        image["credit"] = {"name": name, "slug": slug}
                    break
            if image != story.image:
                story.image = image
                changed.append(story)
        story_model.objects.bulk_update(changed, ["image"])


def forwards(apps, schema_editor):
    drop_refused_pictures(apps.get_model("stories", "Article"))
    credit_pictures(apps.get_model("stories", "Story"), apps.get_model("stories", "Coverage"))


class Migration(migrations.Migration):
    dependencies = [("stories", "0009_coverage_takedown")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
