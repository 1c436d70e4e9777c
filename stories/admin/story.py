"""The story admin: editors curate the published flag.

Everything on a story comes from its seed document except ``published``, the
one field editors set. Setting it, by the list's actions or on the change page,
goes through ``stories.publishing.set_published``, which stamps
``editor_decided_at`` (re-imports then leave the flag alone), recounts the
stored per-topic and per-outlet counts and, once committed, tells the caches
(``content_changed``). The admin records who did it in the story's history.

The coverage table offers, per item, to hide it from the story or restore it
(``stories.admin.takedown``, ``stories.takedown``); re-imports keep it hidden.
"""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from stories import publishing
from stories.admin.changelist import EstimatedCountPaginator, LargeTableChangeList
from stories.admin.filters import CategoryFilter, HasImageFilter, LeadProviderFilter, ScoredFilter, TopicFilter
from stories.admin.takedown import story_takedown_urls
from stories.models import Coverage, CoverageTakedown, Story

# Long values no list column shows (search_vector only where the model has it).
LIST_DEFERRED = (
    *(
        name
        for name in ("search_text", "search_grams", "search_runs", "search_vector", "secured", "outlets_preview")
        if any(field.name == name for field in Story._meta.get_fields())
    ),
    "lead__excerpt",
    "lead__images",
)


def external_link(url, text):
    """A link out to an outlet's page, opened apart from the admin; plain text if the address is not http(s)."""
    if not url or not url.lower().startswith(("https://", "http://")):
        return text
    return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, text)


def format_html_join_lines(parts):
    """Safe HTML pieces, one per line."""
    return format_html("{}" + "<br>{}" * (len(parts) - 1), *parts)


def local_time(value):
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def yes_no(value):
    icon = static("admin/img/icon-yes.svg" if value else "admin/img/icon-no.svg")
    return format_html('<img src="{}" alt=""> {}', icon, "Yes" if value else "No")


# Shown read-only on a story's change page: what the import wrote.
FROM_SEED_FIELDS = (
    "slug",
    "category",
    "topics",
    "quality",
    "heat",
    "published_at",
    "coverage_count",
    "outlet_count",
    "picture",
    "source_file",
    "created_at",
    "updated_at",
)


class StoryChangeList(LargeTableChangeList):
    def get_results(self, request):
        super().get_results(request)
        # The topics column: one query for the page's rows, not one per row (and none for the count).
        self.result_list = self.result_list.prefetch_related("topics").defer(*LIST_DEFERRED)


class CoverageInline(admin.TabularInline):
    """The story's coverage in document order, read-only: outlet, headline (linked out), time."""

    model = Coverage
    fk_name = "story"
    template = "admin/stories/story/coverage_inline.html"
    fields = ("number", "outlet", "headline", "time", "shown")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "coverage item"
    verbose_name_plural = "coverage, in the source document's order"

    def get_queryset(self, request):
        taken_down = CoverageTakedown.objects.filter(story_id=OuterRef("story_id"), article_id=OuterRef("article_id"))
        return (
            super()
            .get_queryset(request)
            .select_related("article__provider")
            .annotate(
                takedown_reason=Subquery(taken_down.values("reason")[:1]),
                takedown_at=Subquery(taken_down.values("hidden_at")[:1]),
            )
            .order_by("position")
        )

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("stories.view_story") or request.user.has_perm("stories.change_story")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="#")
    def number(self, coverage):
        return coverage.position + 1

    @admin.display(description="outlet")
    def outlet(self, coverage):
        return coverage.article.provider.name

    @admin.display(description="headline")
    def headline(self, coverage):
        return external_link(coverage.article.web_url, coverage.article.title)

    @admin.display(description="time")
    def time(self, coverage):
        return local_time(coverage.article.published_at)

    @admin.display(description="shown to readers")
    def shown(self, coverage):
        """Shown, or hidden (when, why) from this story or everywhere, with the link that undoes or does it."""
        article = coverage.article
        args = [coverage.story_id, article.pk]
        restore = reverse("admin:stories_story_restore_coverage", args=args)
        parts = []
        if coverage.takedown_reason is not None:
            parts.append(
                format_html(
                    'Hidden from this story on {}: {} · <a href="{}">Restore…</a>',
                    local_time(coverage.takedown_at),
                    coverage.takedown_reason,
                    restore,
                )
            )
        if article.hidden_at is not None:
            parts.append(
                format_html(
                    'Hidden everywhere on {}: {} · <a href="{}">Restore on its article page…</a>',
                    local_time(article.hidden_at),
                    article.hidden_reason,
                    reverse("admin:stories_article_change", args=[article.pk]),
                )
            )
        if parts:
            return format_html_join_lines(parts)
        hide = reverse("admin:stories_story_hide_coverage", args=args)
        return format_html('Yes · <a href="{}">Hide from this story…</a>', hide)


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    list_display = (
        "headline",
        "lead_outlet",
        "published_at",
        "published_status",
        "coverage_count",
        "quality",
        "heat_score",
        "topic_names",
    )
    list_display_links = ("headline",)
    list_filter = ("published", TopicFilter, LeadProviderFilter, CategoryFilter, ScoredFilter, HasImageFilter)
    list_select_related = ("lead__provider",)
    list_per_page = 100
    search_fields = ("lead__title", "lead__provider__name")
    search_help_text = "Finds stories whose headline or lead outlet's name contains every word."
    date_hierarchy = "published_at"
    ordering = ("-published_at", "-id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    actions = ("publish_stories", "unpublish_stories")
    inlines = (CoverageInline,)
    fieldsets = (
        (None, {"fields": ("lead_article", "published", "editor_decision")}),
        ("From the seed document", {"fields": FROM_SEED_FIELDS}),
    )
    # Everything but ``published``; ``secured`` and ``search_text`` are never shown.
    readonly_fields = ("lead_article", "editor_decision", *FROM_SEED_FIELDS)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lead__provider")

    def get_changelist(self, request, **kwargs):
        return StoryChangeList

    # Stories come from imports; editors only publish and unpublish them.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def view_on_site(self, obj):
        return obj.get_absolute_url()  # staff see drafts there as a preview

    def get_urls(self):
        return story_takedown_urls(self) + super().get_urls()

    # --- list columns -----------------------------------------------------

    @admin.display(description="headline", ordering="lead__title")
    def headline(self, story):
        return story.lead.title

    @admin.display(description="lead outlet", ordering="lead__provider__name")
    def lead_outlet(self, story):
        return story.lead.provider.name

    @admin.display(description="published", ordering="published")
    def published_status(self, story):
        return yes_no(story.published)

    @admin.display(description="heat", ordering="heat")
    def heat_score(self, story):
        return "unscored" if story.heat == -1 else story.heat

    @admin.display(description="topics")
    def topic_names(self, story):
        return ", ".join(topic.name for topic in story.topics.all())

    # --- change page ------------------------------------------------------

    @admin.display(description="lead article")
    def lead_article(self, story):
        lead = story.lead
        return format_html(
            "{}<br>{}<br>{}",
            external_link(lead.web_url, lead.title),
            lead.provider.name,
            local_time(lead.published_at),
        )

    @admin.display(description="editor's decision")
    def editor_decision(self, story):
        if story.editor_decided_at is None:
            return "None yet: a re-import may still change the published flag."
        when = local_time(story.editor_decided_at)
        return f"Set by an editor on {when}: re-imports leave the published flag as it is. See History for who."

    @admin.display(description="picture")
    def picture(self, story):
        url = (story.image or {}).get("url") if isinstance(story.image, dict) else None
        return external_link(url, url) if url else "-"

    def construct_change_message(self, request, form, formsets, add=False):
        if not add and "published" in form.changed_data:
            return "Published on the change page." if form.instance.published else "Unpublished on the change page."
        return super().construct_change_message(request, form, formsets, add)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
        elif "published" in form.changed_data:
            # Only the flag, through the one publishing operation (an import may have refreshed the
            # rest meanwhile); Django's change view records the history entry after this.
            decision = publishing.set_published(Story.objects.filter(pk=obj.pk), obj.published)
            obj.editor_decided_at = decision.decided_at

    # --- actions ----------------------------------------------------------

    @admin.action(description="Publish selected stories", permissions=["change"])
    def publish_stories(self, request, queryset):
        self.set_published(request, queryset, True)

    @admin.action(description="Unpublish selected stories", permissions=["change"])
    def unpublish_stories(self, request, queryset):
        self.set_published(request, queryset, False)

    def set_published(self, request, queryset, value):
        """Set the flag on the selected stories; each one's decision is stamped and recorded.

        Stories already so keep their flag, but the editor's choice is stamped on
        them too (re-imports leave them so from now on) and recorded.
        """
        verb = "Published" if value else "Unpublished"
        action = "publish" if value else "unpublish"
        with transaction.atomic(using=queryset.db):  # the history with the change, or neither
            decision = publishing.set_published(queryset, value)
            changed, kept = decision.changed, decision.kept
            if changed:
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=changed,
                    action_flag=CHANGE,
                    change_message=f"{verb} with the “{action.capitalize()} selected stories” action.",
                )
            if kept:
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=kept,
                    action_flag=CHANGE,
                    change_message=(
                        f"Already {verb.lower()}; the “{action.capitalize()} selected stories” action "
                        "kept it so (re-imports leave it as it is)."
                    ),
                )

        already = verb.lower()
        if changed:
            message = ngettext("%(verb)s %(count)d story", "%(verb)s %(count)d stories", len(changed)) % {
                "verb": verb,
                "count": len(changed),
            }
            if kept:
                message += ngettext(
                    " (%(count)d was already %(already)s)", " (%(count)d were already %(already)s)", len(kept)
                ) % {"count": len(kept), "already": already}
            self.message_user(request, message + ".", messages.SUCCESS)
        else:
            message = ngettext(
                "No story changed: the selected story was already %(already)s.",
                "No story changed: the %(count)d selected stories were already %(already)s.",
                len(kept),
            ) % {"count": len(kept), "already": already}
            self.message_user(request, message, messages.WARNING)
