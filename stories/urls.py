from django.contrib.sitemaps.views import sitemap
from django.urls import path, register_converter
from django.views.decorators.http import require_safe

from stories import feeds, views
from stories.caching import cache_public_page
from stories.sitemaps import index as sitemap_index
from stories.sitemaps import sitemaps

app_name = "stories"


class TwoDigitConverter:
    """A month or a day: read as 1 or 2 digits, written as 2 (/archive/2020/06/01/)."""

    regex = "[0-9]{1,2}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):02d}"


class YearConverter(TwoDigitConverter):
    regex = "[0-9]{4}"

    def to_url(self, value):
        return f"{int(value):04d}"


class UnicodeSlugConverter:
    """A story's Unicode slug (letters and digits of any script, "-" and "_"), like SlugField(allow_unicode=True)."""

    regex = r"[-\w]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(TwoDigitConverter, "dd")
register_converter(UnicodeSlugConverter, "uslug")
register_converter(YearConverter, "yyyy")

urlpatterns = [
    path("", views.home, name="home"),
    path("story/<int:pk>-<uslug:slug>/", views.story_detail, name="story_detail"),
    path("story/<int:pk>/", views.story_short, name="story_short"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
    path("providers/", views.provider_list, name="provider_list"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider_detail"),
    path("providers/<slug:slug>/covered/", views.provider_covered, name="provider_covered"),
    path("search/", views.search, name="search"),
    path("archive/", views.archive_index, name="archive"),
    path("archive/<yyyy:year>/", views.year_archive, name="year_archive"),
    path("archive/<yyyy:year>/<dd:month>/", views.month_archive, name="month_archive"),
    path("archive/<yyyy:year>/<dd:month>/<dd:day>/", views.day_archive, name="day_archive"),
    path("feeds/latest.rss", feeds.LatestStoriesFeed.view(), name="latest_rss"),
    path("feeds/latest.atom", feeds.LatestStoriesAtomFeed.view(), name="latest_atom"),
    path("feeds/topics/<slug:slug>.rss", feeds.TopicFeed.view(), name="topic_rss"),
    path("feeds/topics/<slug:slug>.atom", feeds.TopicAtomFeed.view(), name="topic_atom"),
    path("feeds/providers/<slug:slug>.rss", feeds.ProviderFeed.view(), name="provider_rss"),
    path("feeds/providers/<slug:slug>.atom", feeds.ProviderAtomFeed.view(), name="provider_atom"),
    path("feeds/search.rss", feeds.SearchFeed.view(), name="search_rss"),
    path("feeds/search.atom", feeds.SearchAtomFeed.view(), name="search_atom"),
    path("sitemap.xml", require_safe(cache_public_page(sitemap_index)), name="sitemap"),
    path(
        "sitemap-<slug:section>.xml",
        require_safe(cache_public_page(sitemap)),
        {"sitemaps": sitemaps, "template_name": "sitemaps/urlset.xml"},
        name="sitemap_section",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
]
