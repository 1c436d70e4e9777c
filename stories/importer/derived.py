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
from stories.scripts import search_grams, search_runs

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
    search_text = "\n".join(text for text in texts if text)
    return {
        "slug": story_slug(lead.title),
        "coverage_count": len(related),
        "outlet_count": len(outlets),  # the lead's outlet included
        "outlets_preview": preview,  # covering outlets other than the lead's, first seen first
        "image": story_image(lead, related, outlet),
        "search_text": search_text,
        "search_grams": search_grams(search_text),  # indexes runs of 1 or 2 CJK characters (stories.search)
        "search_runs": search_runs(search_text),  # and the trigram index longer ones
    }


def story_image(lead, related, outlet):
    """The story's picture: the lead's first image, else the first coverage item's that has one.

    A picture from another outlet than the lead's carries its credit, ``{"name", "slug"}`` of that
    outlet, for "Picture: Outlet" beside it. (Images are the importer's cleaned ones: their URLs
    follow ``stories.pictures``.)
    """
    lead_domain = outlet(lead)[0]
    for article in (lead, *related):
        if article.images:
            image = dict(article.images[0])
            domain, name, slug = outlet(article)
            if domain != lead_domain:
                image["credit"] = {"name": name, "slug": slug}
            return image
    return None


def story_slug(title):
    """The readable part of a story's address: its headline, slugified and cut; "story" if nothing is left.

    Letters of every script stay (a Unicode slug: 佐々木朗希が… rather than "story"); the
    address is an IRI that ``reverse()`` percent-encodes into a URI.
    """
    return slugify(title, allow_unicode=True)[:SLUG_LENGTH].strip("-") or "story"
