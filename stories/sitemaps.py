"""Sitemaps (django.contrib.sitemaps): /sitemap.xml indexes one plain sitemap per section.

Not a Google News sitemap: this site gathers other outlets' articles, it does
not publish them. Published stories only; topics and outlets with published
stories. Each section is one query: ``items()`` returns a list (read once per
request), so the paginator counts it with ``len()``, not with a COUNT over the
table. Story sitemaps hold 2,000 addresses a page, which keeps one page's
rendering short; the index lists every page.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import x_robots_tag
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import http_date

from stories.context_processors import absolute_url
from stories.directories import providers_with_stories, topics_with_stories
from stories.models import Story

MAX_URLS = 50_000  # the most one section lists
STORIES_PER_PAGE = 2_000
ANYONE = AnonymousUser()  # a sitemap lists what every visitor may see, whoever asks for it


class SiteUrlSitemap(Sitemap):
    """Absolute URLs on ``settings.SITE_URL`` when it is set, else on the request's host."""

    def get_protocol(self, protocol=None):
        if settings.SITE_URL:
            return settings.SITE_URL.split("://", 1)[0]
        return super().get_protocol(protocol)

    def get_domain(self, site=None):
        if settings.SITE_URL:
            return settings.SITE_URL.split("://", 1)[1]
        return super().get_domain(site)

    def items(self):
        if not hasattr(self, "_cached_items"):
            self._cached_items = list(self.fetch())
        return self._cached_items

    def summary(self):
        """(number of pages, latest lastmod or None) for the index."""
        lastmod = self.get_latest_lastmod() if hasattr(self, "lastmod") else None
        return max(self.paginator.num_pages, 1), lastmod


class PagesSitemap(SiteUrlSitemap):
    changefreq = "hourly"
    priority = 0.8

    def fetch(self):
        return ["stories:home", "stories:topic_list", "stories:provider_list"]

    def location(self, item):
        return reverse(item)


class StorySitemap(SiteUrlSitemap):
    changefreq = "daily"
    priority = 0.6
    limit = STORIES_PER_PAGE

    def fetch(self):
        # Plain rows, not model objects: a sitemap of thousands of stories is read faster.
        return (
            Story.objects.visible_to(ANYONE)
            .newest_first()
            .values_list("id", "slug", "updated_at", named=True)[:MAX_URLS]
        )

    def location(self, item):
        return reverse("stories:story_detail", kwargs={"pk": item.id, "slug": item.slug or "story"})

    def lastmod(self, item):
        return item.updated_at

    def summary(self):
        # The index needs no story objects: their update times are enough.
        times = list(Story.objects.visible_to(ANYONE).newest_first().values_list("updated_at", flat=True)[:MAX_URLS])
        return max(-(-len(times) // self.limit), 1), max(times, default=None)


class TopicSitemap(SiteUrlSitemap):
    changefreq = "hourly"
    priority = 0.5

    def fetch(self):
        return topics_with_stories().only("id", "slug").order_by("name", "id")[:MAX_URLS]


class ProviderSitemap(SiteUrlSitemap):
    changefreq = "daily"
    priority = 0.4

    def fetch(self):
        return providers_with_stories().only("id", "slug").order_by("name", "id")[:MAX_URLS]


sitemaps = {
    "pages": PagesSitemap,
    "stories": StorySitemap,
    "topics": TopicSitemap,
    "providers": ProviderSitemap,
}


@x_robots_tag
def index(request):
    """/sitemap.xml: every page of every section (Django's index view, with SITE_URL honoured)."""
    entries, latest = [], None
    for section, sitemap_class in sitemaps.items():
        sitemap = sitemap_class()
        location = absolute_url(request, reverse("stories:sitemap_section", kwargs={"section": section}))
        pages, lastmod = sitemap.summary()
        if lastmod is not None:
            latest = max(latest, lastmod) if latest else lastmod
        entries += [
            {"location": location if page == 1 else f"{location}?p={page}", "lastmod": lastmod}
            for page in range(1, pages + 1)
        ]
    headers = {"Last-Modified": http_date(latest.timestamp())} if latest else None
    return TemplateResponse(
        request, "sitemaps/index.xml", {"entries": entries}, content_type="application/xml", headers=headers
    )
