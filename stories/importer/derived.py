"""The fields a story row derives from its articles, computed in one place.

A story stores what its pages would otherwise work out from the lead and the
coverage on every request: its slug, counts, the first few covering outlets,
a picture and the text search reads. The importer's writer and the test
factories (tests/factories.py) both call ``derived_fields``, so a story made
for a test holds what an import of the same articles would store.

Pure: no ORM, no database; articles are read through their attributes only.
"""

from django.utils.text import slugify

from stories.models import OUTLETS_PREVIEW_SIZE

SLUG_LENGTH = 80  # of the headline; the column (Story.slug) holds 120


def derived_fields(lead, related, outlet):
    """The derived fields of a story, as a dict of Story field names to values.

    ``lead`` and ``related`` (the coverage, in document order) are articles with
    ``title``, ``excerpt`` and ``images``: the importer's ``ArticleData`` or the
    ``Article`` model. ``outlet(article)`` returns the article's outlet as
    ``(domain, name, slug)``.
    """
    outlets, preview = {outlet(lead)[0]}, []
    for item in related:
        domain, name, slug = outlet(item)
        if domain not in outlets:
            outlets.add(domain)
            if len(preview) < OUTLETS_PREVIEW_SIZE:
                preview.append([name, slug])
    texts = [lead.title, lead.excerpt]
    for item in related:
        texts += [item.title, item.excerpt]
    return {
        "slug": story_slug(lead.title),
        "coverage_count": len(related),
        "outlet_count": len(outlets),  # the lead's outlet included
        "outlets_preview": preview,  # covering outlets other than the lead's, first seen first
        "image": next((article.images[0] for article in (lead, *related) if article.images), None),
        "search_text": "\n".join(text for text in texts if text),
    }


def story_slug(title):
    """The readable part of a story's address: its headline, slugified and cut; "story" if nothing is left."""
    return slugify(title)[:SLUG_LENGTH].strip("-") or "story"
