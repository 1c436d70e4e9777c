"""RSS and Atom feeds (django.contrib.syndication): latest stories, a topic, an outlet, a saved search.

Only published stories, the latest 50. An item links to the story's page on
this site; its description is the excerpt and the number of outlets that
covered it. Descriptions are HTML (as both formats read them), built with
escaping, so markup in a headline or excerpt arrives as text.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape, format_html
from django.views.decorators.http import require_safe

from stories.caching import cache_public_page
from stories.context_processors import absolute_url
from stories.filters import StoryFilter, find_provider, find_topic
from stories.search import MAX_QUERY_LENGTH
from stories.views import visible_stories

FEED_SIZE = 50


class LatestStoriesFeed(Feed):
    feed_type = Rss201rev2Feed

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
        return visible_stories(self.request)

    def items(self, obj):
        return (
            self.stories(obj)
            .select_related("lead__provider")
            .prefetch_related("topics")
            .defer("search_text", "search_vector", "secured", "source_file", "lead__images")
            .newest_first()[:FEED_SIZE]
        )

    def channel_text(self, text):
        """RSS readers take channel titles and descriptions as HTML, like item titles; Atom's are text."""
        return text if issubclass(self.feed_type, Atom1Feed) else escape(text)

    # --- the items ---------------------------------------------------------

    def item_title(self, item):
        return escape(item.lead.title)  # RSS readers take titles as HTML (Django's default, #6533)

    def item_description(self, item):
        outlets = item.outlet_count
        return format_html(
            "<p>{}</p><p>Covered by {} outlet{}. First reported by {}.</p>",
            item.lead.excerpt,
            outlets,
            "" if outlets == 1 else "s",
            item.lead.provider.name,
        )

    def item_link(self, item):
        return absolute_url(self.request, item.get_absolute_url())

    def item_guid(self, item):
        return self.item_link(item)

    item_guid_is_permalink = True

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.lead.provider.name

    def item_categories(self, item):
        return [topic.name for topic in item.topics.all()]


class LatestStoriesAtomFeed(LatestStoriesFeed):
    feed_type = Atom1Feed

    def item_title(self, item):
        return item.lead.title  # Atom titles are text


class TopicFeed(LatestStoriesFeed):
    def get_object(self, request, slug):
        topic = find_topic(slug)
        if topic is None:
            raise Http404("No such topic.")
        return topic

    def title(self, obj):
        return self.channel_text(f"{settings.SITE_NAME}: {obj['name']}")

    def description(self, obj):
        return self.channel_text(f"The latest stories on {obj['name']}.")

    subtitle = description

    def link(self, obj):
        return absolute_url(self.request, reverse("stories:topic_detail", kwargs={"slug": obj["slug"]}))

    def stories(self, obj):
        return visible_stories(self.request).filter(topics=obj["id"])


class TopicAtomFeed(TopicFeed):
    feed_type = Atom1Feed
    item_title = LatestStoriesAtomFeed.item_title


class ProviderFeed(LatestStoriesFeed):
    """An outlet's feed: the stories it led or covered."""

    def get_object(self, request, slug):
        provider = find_provider(slug)
        if provider is None:
            raise Http404("No such outlet.")
        return provider

    def title(self, obj):
        return self.channel_text(f"{settings.SITE_NAME}: {obj['name']}")

    def description(self, obj):
        return self.channel_text(f"The latest stories {obj['name']} led or covered.")

    subtitle = description

    def link(self, obj):
        return absolute_url(self.request, reverse("stories:provider_detail", kwargs={"slug": obj["slug"]}))

    def stories(self, obj):
        return visible_stories(self.request).by_outlet(obj["id"])


class ProviderAtomFeed(ProviderFeed):
    feed_type = Atom1Feed
    item_title = LatestStoriesAtomFeed.item_title


class SearchFeed(LatestStoriesFeed):
    """A saved search: the same ``q`` and filter parameters as the search page. Invalid filters are a 404."""

    def get_object(self, request):
        q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
        filterset = StoryFilter(request.GET, visible_stories(request))
        if not filterset.is_valid():
            raise Http404("Invalid filters.")
        return {"q": q, "filterset": filterset}

    def title(self, obj):
        parts = [f"“{obj['q']}”"] if obj["q"] else []
        parts += [f"{label}: {value}" for _name, label, value in obj["filterset"].active()]
        return self.channel_text(f"{settings.SITE_NAME}: {', '.join(parts) or 'latest stories'}")

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
    feed_type = Atom1Feed
    item_title = LatestStoriesAtomFeed.item_title
