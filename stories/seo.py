"""What a page tells search engines and feed readers about itself: canonical URL, feed links, description, JSON-LD.

Every URL here is absolute (``absolute_url``: ``settings.SITE_URL`` when set).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from stories.context_processors import absolute_url
from stories.filters import StoryFilter
from stories.languages import UNKNOWN_LANGUAGE
from stories.pictures import picture_url
from stories.templatetags.reader import safe_url

# The parameters that change a list's content, in the order a canonical URL writes them.
LIST_PARAMS = ("q", "sort", *StoryFilter.base_filters, "after", "before")
EXCERPT_WORDS = 60  # description meta tags


def canonical_url(request, keep=LIST_PARAMS, path=None):
    """The page's absolute URL with only the parameters that change its content, in a fixed order."""
    params = [(name, request.GET[name]) for name in keep if request.GET.get(name)]
    query = f"?{urlencode(params)}" if params else ""
    return absolute_url(request, f"{path or request.path}{query}")


def feed_links(request, title, rss_name, atom_name, kwargs=None, query=""):
    """The RSS and Atom ``<link rel="alternate">`` entries of a feed: dicts of title, type and absolute url."""
    rss = reverse(f"stories:{rss_name}", kwargs=kwargs)
    atom = reverse(f"stories:{atom_name}", kwargs=kwargs)
    return [
        {"title": f"{title} (RSS)", "type": "application/rss+xml", "url": absolute_url(request, rss + query)},
        {"title": f"{title} (Atom)", "type": "application/atom+xml", "url": absolute_url(request, atom + query)},
    ]


def filter_query(request):
    """The search and filter parameters of a list, for a saved-search feed URL ("" when there are none)."""
    params = [(name, request.GET[name]) for name in ("q", *StoryFilter.base_filters) if request.GET.get(name)]
    return f"?{urlencode(params)}" if params else ""


def meta_description(text, words=EXCERPT_WORDS):
    """The first ``words`` words of ``text``, with an ellipsis when there were more ("" for no text)."""
    parts = (text or "").split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def story_image(story):
    """The story's image dict when its URL is a picture the site shows (``stories.pictures``), else None."""
    return story.image if story.image and picture_url(story.image.get("url")) else None


def publisher(article):
    """schema.org: the outlet that published ``article``."""
    return {"@type": "Organization", "name": article.provider.name, "url": f"https://{article.provider.domain}/"}


def story_jsonld(request, story, canonical, rows):
    """schema.org: a CollectionPage whose ItemList holds each outlet's NewsArticle, credited to its outlet.

    This site publishes the collection, not the articles: each article keeps its
    own URL, headline, date and publisher. ``rows`` are the story's coverage rows
    (stories.coverage): each outlet's best item follows the lead.
    """
    articles = [story.lead] + [row.best for row in rows]
    elements = []
    for article in articles:
        url = safe_url(article.web_url)
        if not url:
            continue
        item = {
            "@type": "NewsArticle",
            "headline": article.title[:300],
            "url": url,
            "datePublished": article.published_at.isoformat(),
            "publisher": publisher(article),
        }
        if article.language != UNKNOWN_LANGUAGE:
            item["inLanguage"] = article.language
        elements.append({"@type": "ListItem", "position": len(elements) + 1, "item": item})
    data = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": story.lead.title[:300],
        "url": canonical,
        "description": meta_description(story.lead.excerpt),
        "isPartOf": {"@type": "WebSite", "name": settings.SITE_NAME, "url": absolute_url(request, "/")},
        "mainEntity": {"@type": "ItemList", "numberOfItems": len(elements), "itemListElement": elements},
    }
    image = story.image and picture_url(story.image.get("url"))
    if image:
        data["image"] = image
    return data
