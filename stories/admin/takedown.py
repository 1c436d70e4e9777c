"""The editors' takedown pages: hide a coverage item from a story, or an article everywhere; restore it.

Each is a confirmation page (GET shows it, POST acts) reached from the story's
coverage table or the article's page. The work is ``stories.takedown``'s; here
are the permission check, the reason form, the history entries (who, what, when,
why: ``LogEntry`` on the story, and on the article for "everywhere") and the
message. Acting needs the permission to change stories (the Editors group has it).
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from stories import takedown
from stories.models import Article, Coverage, CoverageTakedown, Story

CAN_TAKE_DOWN = "stories.change_story"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=takedown.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept in the history: a legal request, a dead or wrong link...",
    )


def item_name(article):
    return f"“{article.title}” ({article.provider.name})"


def story_takedown_urls(model_admin):
    """The URLs of a story's item takedown pages (for ``StoryAdmin.get_urls``)."""
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "<path:object_id>/coverage/<int:article_id>/hide/",
            wrap(lambda request, object_id, article_id: _story_item(model_admin, request, object_id, article_id, True)),
            name="stories_story_hide_coverage",
        ),
        path(
            "<path:object_id>/coverage/<int:article_id>/restore/",
            wrap(
                lambda request, object_id, article_id: _story_item(model_admin, request, object_id, article_id, False)
            ),
            name="stories_story_restore_coverage",
        ),
    ]


def article_takedown_urls(model_admin):
    """The URLs of an article's hide-everywhere and restore pages (for ``ArticleAdmin.get_urls``)."""
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "<path:object_id>/hide/",
            wrap(lambda request, object_id: _article(model_admin, request, object_id, True)),
            name="stories_article_hide",
        ),
        path(
            "<path:object_id>/restore/",
            wrap(lambda request, object_id: _article(model_admin, request, object_id, False)),
            name="stories_article_restore",
        ),
    ]


def _story_item(model_admin, request, object_id, article_id, hide):
    if not request.user.has_perm(CAN_TAKE_DOWN):
        raise PermissionDenied
    story = get_object_or_404(Story.objects.select_related("lead"), pk=object_id)
    item = Coverage.objects.filter(story=story, article_id=article_id).select_related("article__provider").first()
    if item is None:
        raise Http404("No such coverage item.")
    article = item.article
    back = reverse("admin:stories_story_change", args=[story.pk])
    taken_down = CoverageTakedown.objects.filter(story=story, article=article).first()
    if hide:
        title = "Hide a coverage item from this story"
        explanation = (
            f"{item_name(article)} will no longer show with the story “{story}”: not on its page, its card, "
            "feeds, search or the counts. Re-imports keep it hidden. You can restore it later."
        )
    else:
        title = "Restore a coverage item"
        explanation = f"{item_name(article)} will show with the story “{story}” again" + (
            ", but it stays hidden everywhere until the article is restored." if article.hidden_at else "."
        )
    form = ReasonForm(request.POST or None) if hide else forms.Form(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def act():
            if hide:
                done = takedown.hide_coverage(story, article, form.cleaned_data["reason"])
                return done, f"Hid the coverage item {item_name(article)} from this story. Reason: {done.reason}"
            done = takedown.restore_coverage(story, article)
            message = f"Restored the coverage item {item_name(article)} to this story."
            if taken_down is not None:
                message += f" (Hidden since {taken_down.hidden_at:%Y-%m-%d %H:%M} UTC: {taken_down.reason})"
            return done, message

        unchanged = "the item was " + ("already hidden" if hide else "not hidden from this story")
        response = _carry_out(model_admin, request, form, act, lambda done: [story], unchanged, back)
        if response is not None:
            return response
    return _render(model_admin, request, story, title, explanation, form, hide, back, taken_down)


def _article(model_admin, request, object_id, hide):
    if not request.user.has_perm(CAN_TAKE_DOWN):
        raise PermissionDenied
    article = get_object_or_404(Article.objects.select_related("provider"), pk=object_id)
    back = reverse("admin:stories_article_change", args=[article.pk])
    stories = Story.objects.filter(coverage_items__article=article).select_related("lead").order_by("pk")
    count = stories.count()
    if hide:
        title = "Hide this article everywhere"
        explanation = (
            f"{item_name(article)} will no longer show with any story ({count} now, and any later import "
            "that covers it). You can restore it later."
        )
    else:
        title = "Restore this article everywhere"
        explanation = f"{item_name(article)} will show again with the {count} stories it covers (except those "
        explanation += "it is hidden from on their own)."
    form = ReasonForm(request.POST or None) if hide else forms.Form(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def act():
            if hide:
                done = takedown.hide_article(article, form.cleaned_data["reason"])
                return done, f"Hid {item_name(article)} from every story. Reason: {done.reason}"
            reason = article.hidden_reason
            done = takedown.restore_article(article)
            return done, f"Restored {item_name(article)} to every story it covers. (Was hidden: {reason})"

        unchanged = "the article was " + ("already hidden everywhere" if hide else "not hidden")
        response = _carry_out(model_admin, request, form, act, lambda done: [article, *done.stories], unchanged, back)
        if response is not None:
            return response
    return _render(model_admin, request, article, title, explanation, form, hide, back, None)


def _carry_out(model_admin, request, form, act, logged, unchanged, back):
    """Run ``act()`` (a takedown operation, returning it and its message) in one transaction.

    A change is logged in the history of each object ``logged(done)`` names and told to the
    editor; a refusal becomes the form's error (None: show the form again).
    """
    with transaction.atomic():
        try:
            done, message = act()
        except takedown.TakedownRefusedError as refused:
            form.add_error(None, str(refused))
            return None
        if not done.changed:
            model_admin.message_user(request, f"Nothing changed: {unchanged}.", messages.WARNING)
            return HttpResponseRedirect(back)
        for obj in logged(done):
            _log(request, obj, message)
        model_admin.message_user(request, message, messages.SUCCESS)
    return HttpResponseRedirect(back)


def _log(request, obj, message):
    LogEntry.objects.log_actions(user_id=request.user.pk, queryset=[obj], action_flag=CHANGE, change_message=message)


def _render(model_admin, request, obj, title, explanation, form, hide, back, taken_down):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": str(obj),
        "opts": model_admin.model._meta,
        "object": obj,
        "explanation": explanation,
        "form": form,
        "hide": hide,
        "back": back,
        "taken_down": taken_down,
    }
    return TemplateResponse(request, "admin/stories/takedown.html", context)
