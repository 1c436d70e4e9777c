"""Admin pages for what stories are made of: articles, outlets (providers) and topics.

They come from imports, so nobody adds or deletes them here. Editors may view
them (the Editors group has view permissions only); users who hold a change
permission may correct a few fields, though a re-import of a changed document
writes its articles again.

An article can be hidden from every story it covers (``stories.admin.takedown``):
its page says so and links to the hide or restore page.
"""

from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from stories.admin.changelist import EstimatedCountPaginator, LargeTableChangeList
from stories.admin.filters import ArticleTypeFilter, ProviderFilter
from stories.admin.story import external_link, local_time
from stories.admin.takedown import CAN_TAKE_DOWN, article_takedown_urls
from stories.models import Article, Provider, Topic


class ImportedDataAdmin(admin.ModelAdmin):
    """Rows created by imports: never added or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def published_stories_link(count, **params):
    """The stored count, linking to those published stories in the story list."""
    query = urlencode({**params, "published__exact": 1})
    return format_html('<a href="{}?{}">{}</a>', reverse("admin:stories_story_changelist"), query, count)


@admin.register(Article)
class ArticleAdmin(ImportedDataAdmin):
    list_display = ("title", "outlet", "published_at", "type", "quality", "heat")
    list_filter = (ArticleTypeFilter, ProviderFilter)
    list_select_related = ("provider",)
    search_fields = ("title", "web_url", "provider__name")
    search_help_text = "Finds articles whose headline, address or outlet name contains every word."
    ordering = ("-published_at", "-id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    autocomplete_fields = ("provider",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = (
        "title",
        "link",
        "takedown",
        "provider",
        "published_at",
        "type",
        "quality",
        "heat",
        "excerpt",
        "amp_url",
        "cdn_amp_url",
        "images",
    )
    # The address identifies the article for imports; the time orders stories.
    readonly_fields = ("link", "published_at", "takedown")
    change_form_template = "admin/stories/article/change_form.html"

    def get_urls(self):
        return article_takedown_urls(self) + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_take_down"] = request.user.has_perm(CAN_TAKE_DOWN)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="shown to readers")
    def takedown(self, article):
        if article.hidden_at is None:
            return "Yes, with every story it covers."
        return f"No: hidden from every story on {local_time(article.hidden_at)}. Reason: {article.hidden_reason}"

    def get_changelist(self, request, **kwargs):
        return LargeTableChangeList

    @admin.display(description="outlet", ordering="provider__name")
    def outlet(self, article):
        return article.provider.name

    @admin.display(description="address")
    def link(self, article):
        return external_link(article.web_url, article.web_url)


@admin.register(Provider)
class ProviderAdmin(ImportedDataAdmin):
    list_display = ("name", "domain", "stories_led", "stories_covered")
    search_fields = ("name", "domain")
    search_help_text = "Finds outlets whose name or domain contains every word."
    ordering = ("name", "id")
    fields = ("name", "domain", "slug", "led_count", "covered_count")
    # The domain tells outlets apart on import; the slug is in public addresses.
    readonly_fields = ("domain", "slug", "led_count", "covered_count")

    @admin.display(description="published stories led", ordering="led_count")
    def stories_led(self, provider):
        return published_stories_link(provider.led_count, provider=provider.slug)

    @admin.display(description="published stories covered", ordering="covered_count")
    def stories_covered(self, provider):
        return provider.covered_count


@admin.register(Topic)
class TopicAdmin(ImportedDataAdmin):
    list_display = ("name", "slug", "stories")
    search_fields = ("name", "slug")
    search_help_text = "Finds topics whose name or slug contains every word."
    ordering = ("name", "id")
    fields = ("name", "slug", "story_count")
    readonly_fields = ("slug", "story_count")

    @admin.display(description="published stories", ordering="story_count")
    def stories(self, topic):
        return published_stories_link(topic.story_count, topic=topic.slug)
