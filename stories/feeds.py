"""RSS and Atom feeds (django.contrib.syndication): latest stories, a topic, an outlet, a saved search.

Only published stories, the latest 50. An item links to the story's page on
this site; its description is the excerpt and the number of outlets that
reported it. Every feed takes ``?mute=`` (stories/muting.py): the muted outlets'
stories go, and they leave the counts. Descriptions are HTML (as both formats read them), built with
escaping, so markup in a headline or excerpt arrives as text. Titles are plain
text in both formats: a quote arrives as a quote, not as ``&#x27;``.

An item's id (RSS ``guid``, Atom ``id``) is the story's short address,
``/story/<id>/``: it never changes, while the slugged link follows the headline.
An item whose language is known says so (Atom ``xml:lang``, RSS ``dc:language``).
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.views.decorators.http import require_safe

from stories.caching import cache_public_page
from stories.context_processors import absolute_url
from stories.directories import find_provider, find_topic
from stories.filters import StoryFilter
from stories.languages import UNKNOWN_LANGUAGE
from stories.models import Story
from stories.muting import (
    coverage_outlet_slugs,
    muted_slugs,
    shown_outlet_count,
    story_outlet_slugs,
    without_muted_leads,
)
from stories.search import MAX_QUERY_LENGTH

FEED_SIZE = 50
DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"


class RssWithLanguages(Rss201rev2Feed):
    """RSS 2.0 whose items may name their language (Dublin Core; RSS itself has one per channel)."""

    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:dc": DUBLIN_CORE}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("language"):
            handler.addQuickElement("dc:language", item["language"])


class AtomWithLanguages(Atom1Feed):
    """Atom whose entries may carry ``xml:lang``."""

    def item_attributes(self, item):
        attributes = super().item_attributes(item)
        if item.get("language"):
            attributes["xml:lang"] = item["language"]
        return attributes


class LatestStoriesFeed(Feed):
    feed_type = RssWithLanguages

    @classmethod
    def view(cls):
        """A view making one feed object per request, so that ``self.request`` is never shared between threads."""

        def feed_view(request, *args, **kwargs):
            feed = cls()
            feed.request = request
            return feed(request, *args, **kwargs)

        feed_view.__name__ = feed_view.__qualname__ = cls.__name__
        return require_safe(cache_public_page(feed_view))

    # --- the channel -------------------------------------------------------

    def title(self, obj):
        return f"{settings.SITE_NAME}: latest stories"

    def description(self, obj):
        return "The latest news stories, each with the number of outlets that covered it."

    subtitle = description  # Atom's name for it

    def link(self, obj):
        return absolute_url(self.request, reverse("stories:home"))

    def feed_url(self, obj):
        return absolute_url(self.request, self.request.get_full_path())

    def stories(self, obj):
        return Story.objects.visible_to(self.request.user)

    def items(self, obj):
        stories = self.stories(obj)
        if self.muted:  # ?mute=: their stories go, and they leave each item's count (stories/muting.py)
            stories = without_muted_leads(stories, self.muted).annotate(coverage_slugs=coverage_outlet_slugs())
        return (
            stories.select_related("lead__provider")
            .prefetch_related("topics")
            .defer(
                "search_text", "search_grams", "search_runs", "search_vector", "secured", "source_file", "lead__images"
            )
            .newest_first()[:FEED_SIZE]
        )

    # --- the items ---------------------------------------------------------

    def item_title(self, item):
        # Plain text, escaped once by the XML writer: a reader shows "Diablo 4's", not "Diablo 4&#x27;s".
        return item.lead.title

    @cached_property
    def muted(self):
        return muted_slugs(self.request.GET)

    def item_description(self, item):
        outlets = item.outlet_count
        if self.muted:
            outlets = shown_outlet_count(outlets, story_outlet_slugs(item), self.muted)
        language = self._language(item)
        return format_html(
            '<p{} dir="auto">{}</p><p lang="en">Reported by {} outlet{}. First reported by {}.</p>',
            format_html(' lang="{}"', language) if language else "",
            item.lead.excerpt,
            outlets,
            "" if outlets == 1 else "s",
            item.lead.provider.name,
        )

    def item_link(self, item):
        return absolute_url(self.request, item.get_absolute_url())

    def item_guid(self, item):
        # The story's key, never its slug: a corrected headline must not make the item new to readers.
        return absolute_url(self.request, reverse("stories:story_short", kwargs={"pk": item.pk}))

    item_guid_is_permalink = True  # /story/<id>/ answers, redirecting to the story's page

    def item_extra_kwargs(self, item):
        return {"language": self._language(item)}

    @staticmethod
    def _language(item):
        language = item.lead.language
        return "" if language == UNKNOWN_LANGUAGE else language

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.lead.provider.name

    def item_categories(self, item):
        return [topic.name for topic in item.topics.all()]


class LatestStoriesAtomFeed(LatestStoriesFeed):
    feed_type = AtomWithLanguages


class TopicFeed(LatestStoriesFeed):
    def get_object(self, request, slug):
        topic = find_topic(slug)
        if topic is None:
            raise Http404("No such topic.")
        return topic

    def title(self, obj):
        return f"{settings.SITE_NAME}: {obj['name']}"

    def description(self, obj):
        return f"The latest stories on {obj['name']}."

    subtitle = description

    def link(self, obj):
        return absolute_url(self.request, reverse("stories:topic_detail", kwargs={"slug": obj["slug"]}))

    def stories(self, obj):
        return Story.objects.visible_to(self.request.user).filter(topics=obj["id"])


class TopicAtomFeed(TopicFeed):
    feed_type = AtomWithLanguages


class ProviderFeed(LatestStoriesFeed):
    """An outlet's feed: the stories it led or covered."""

    def get_object(self, request, slug):
        provider = find_provider(slug)
        if provider is None:
            raise Http404("No such outlet.")
        return provider

    def title(self, obj):
        return f"{settings.SITE_NAME}: {obj['name']}"

    def description(self, obj):
        return f"The latest stories {obj['name']} led or covered."

    subtitle = description

    def link(self, obj):
        return absolute_url(self.request, reverse("stories:provider_detail", kwargs={"slug": obj["slug"]}))

    def stories(self, obj):
        return Story.objects.visible_to(self.request.user).by_outlet(obj["id"])


class ProviderAtomFeed(ProviderFeed):
    feed_type = AtomWithLanguages


class SearchFeed(LatestStoriesFeed):
    """A saved search: the same ``q`` and filter parameters as the search page. Invalid filters are a 404."""

    def get_object(self, request):
        # Words holding what XML 1.0 cannot carry never get here: stories/query_guard.py answers 400.
        q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
        filterset = StoryFilter(request.GET, Story.objects.visible_to(request.user))
        if not filterset.is_valid():
            raise Http404("Invalid filters.")
        return {"q": q, "filterset": filterset}

    def title(self, obj):
        parts = [f"“{obj['q']}”"] if obj["q"] else []
        parts += [f"{label}: {value}" for _name, label, value in obj["filterset"].active()]
        return f"{settings.SITE_NAME}: {', '.join(parts) or 'latest stories'}"

    def description(self, obj):
        return "The latest stories matching a saved search."

    subtitle = description

    def link(self, obj):
        query = self.request.GET.urlencode()
        return absolute_url(self.request, reverse("stories:search") + (f"?{query}" if query else ""))

    def stories(self, obj):
        stories = obj["filterset"].qs
        return stories.search(obj["q"]) if obj["q"] else stories


class SearchAtomFeed(SearchFeed):
    feed_type = AtomWithLanguages
