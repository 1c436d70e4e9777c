"""The editors' admin: actions, history, filters, permissions, query counts, login throttling, create_editor."""

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stories.admin import changelist
from stories.admin import filters as admin_filters
from stories.models import Article, CoverageTakedown, Provider, Story, Topic
from tests.factories import make_article, make_provider, make_story, make_topic

PASSWORD = "Quill-and-ink-for-the-night-desk-42"
LOGIN = "/admin/login/"
CHANGELIST = "/admin/stories/story/"


# --- helpers ----------------------------------------------------------------


class FormFields(HTMLParser):
    """What a browser would submit from the page's form with the given id: inputs, ticked boxes, selects."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.data, self._select = form_id, False, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or ("name" not in attrs and tag != "option"):
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.data.append((attrs["name"], attrs.get("value", "on")))
            elif kind not in {"submit", "button", "file"}:
                self.data.append((attrs["name"], attrs.get("value", "")))
        elif tag == "textarea":
            self.data.append((attrs["name"], ""))
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.append((self._select, attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        if tag == "select":
            self._select = None


def form_data(response, form_id):
    parser = FormFields(form_id)
    parser.feed(response.content.decode())
    data = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value)
    return {name: values if len(values) > 1 else values[0] for name, values in data.items()}


def csrf_token(response):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client, username, password=PASSWORD, **extra):
    """Log in through the real admin login form, CSRF token included."""
    page = client.get(LOGIN, {"next": "/admin/"}, **extra)
    assert page.status_code == 200
    return client.post(
        LOGIN,
        {"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(page), "next": "/admin/"},
        **extra,
    )


def logged_in_client(username):
    client = Client(enforce_csrf_checks=True)
    response = login(client, username)
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/admin/"
    return client


def run_action(client, action, stories, path=CHANGELIST):
    page = client.get(path)
    assert page.status_code == 200
    return client.post(
        path,
        {
            "action": action,
            "index": 0,
            "_selected_action": [story.pk for story in stories],
            "csrfmiddlewaretoken": csrf_token(page),
        },
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def filter_spec(response, parameter):
    return next(s for s in response.context["cl"].filter_specs if getattr(s, "parameter_name", None) == parameter)


def change_url(story):
    return reverse("admin:stories_story_change", args=[story.pk])


def rows(response):
    return {story.pk for story in response.context["cl"].result_list}


def history(story):
    return list(
        LogEntry.objects.filter(content_type__app_label="stories", content_type__model="story", object_id=str(story.pk))
        .select_related("user")
        .order_by("pk")
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real logins, but without the production hasher's deliberate slowness."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(db):
    user = get_user_model().objects.create_user("edith", "edith@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(editor):
    return logged_in_client("edith")


@pytest.fixture
def viewer(db):
    """Staff who may view stories but not change them."""
    user = get_user_model().objects.create_user("victor", password=PASSWORD, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="stories", codename="view_story"))
    return user


# --- publish / unpublish ----------------------------------------------------


def test_publish_action_changes_exactly_the_selected_stories_and_records_history(
    editor, editor_client, signals, django_capture_on_commit_callbacks
):
    outlet = make_provider("globe.example.com", "The Globe")
    ai = make_topic("AI")
    drafts = [make_story(f"Draft {n}", provider=outlet, published=False, topics=[ai]) for n in range(3)]
    already = make_story("Already out", provider=outlet, topics=[ai])
    untouched = make_story("Not selected", provider=outlet, published=False, topics=[ai])

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(editor_client, "publish_stories", [*drafts, already])

    assert response.status_code == 200
    assert messages_of(response) == ["Published 3 stories (1 was already published)."]
    for story in [*drafts, already]:
        story.refresh_from_db()
        assert story.published
        assert story.editor_decided_at is not None
    untouched.refresh_from_db()
    assert not untouched.published and untouched.editor_decided_at is None
    assert signals == [Story]
    # Stored counts follow.
    outlet.refresh_from_db()
    ai.refresh_from_db()
    assert outlet.led_count == 4
    assert ai.story_count == 4

    for story in drafts:
        [entry] = history(story)
        assert entry.user == editor
        assert entry.get_change_message() == "Published with the “Publish selected stories” action."
    [entry] = history(already)
    assert entry.get_change_message().startswith("Already published")
    assert history(untouched) == []

    page = editor_client.get(reverse("admin:stories_story_history", args=[drafts[0].pk]))
    assert "Published with the “Publish selected stories” action." in page.content.decode()
    assert "edith" in page.content.decode()


def test_unpublish_action(editor, editor_client, signals, django_capture_on_commit_callbacks):
    live = [make_story(f"Live {n}") for n in range(2)]
    other = make_story("Other")
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(editor_client, "unpublish_stories", live)
    assert messages_of(response) == ["Unpublished 2 stories."]
    assert set(Story.objects.filter(published=False).values_list("pk", flat=True)) == {s.pk for s in live}
    other.refresh_from_db()
    assert other.published
    assert [e.get_change_message() for s in live for e in history(s)] == [
        "Unpublished with the “Unpublish selected stories” action."
    ] * 2
    assert signals == [Story]


def test_action_on_stories_already_so_changes_nothing_but_says_so(editor_client, signals):
    drafts = [make_story(f"Draft {n}", published=False) for n in range(2)]
    response = run_action(editor_client, "unpublish_stories", drafts)
    assert messages_of(response) == ["No story changed: the 2 selected stories were already unpublished."]
    assert not Story.objects.filter(published=True).exists()
    assert signals == []


def test_change_page_shows_lead_and_ordered_coverage_and_view_on_site(editor_client):
    lead_outlet = make_provider("lead.example.com", "Lead Outlet")
    second = make_article("Second item", provider=make_provider("two.example.com", "Outlet Two"))
    first = make_article("First item", provider=make_provider("one.example.com", "Outlet One"))
    story = make_story(
        "The lead headline", provider=lead_outlet, published=False, coverage=[first, second], secured="TOPSECRET-42"
    )
    response = editor_client.get(change_url(story))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{story.lead.web_url}" target="_blank" rel="noopener noreferrer">The lead headline</a>' in html
    assert "Lead Outlet" in html
    # Coverage in document order, each linked out.
    assert html.index("First item") < html.index("Second item")
    assert html.index("Outlet One") < html.index("Outlet Two")
    assert f'href="{first.web_url}" target="_blank" rel="noopener noreferrer"' in html
    # The flag is the form's only field; the opaque source value is never shown.
    assert list(response.context["adminform"].form.fields) == ["published"]
    assert "TOPSECRET-42" not in html
    # "View on site" opens the story page, marked as a preview for drafts.
    assert f'href="{story.get_absolute_url()}"' in html
    assert "View on site (draft preview)" in html


def test_change_page_publish_records_who_and_locks_the_flag(
    editor, editor_client, signals, django_capture_on_commit_callbacks
):
    topic = make_topic("Robots")
    story = make_story("A draft", published=False, topics=[topic])
    page = editor_client.get(change_url(story))
    data = form_data(page, "story_form")
    assert "published" not in data  # unticked
    data["published"] = "on"
    data["_save"] = "Save"
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(change_url(story), data)
    assert response.status_code == 302, response.content[:2000]
    story.refresh_from_db()
    assert story.published and story.editor_decided_at is not None
    topic.refresh_from_db()
    assert topic.story_count == 1
    assert signals == [Story]
    [entry] = history(story)
    assert entry.user == editor and entry.get_change_message() == "Published on the change page."

    # Saving again without touching the flag changes nothing and sends nothing.
    decided = story.editor_decided_at
    page = editor_client.get(change_url(story))
    assert "View on site (draft preview)" not in page.content.decode()
    data = form_data(page, "story_form")
    assert data["published"] == "on"
    response = editor_client.post(change_url(story), {**data, "_save": "Save"})
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.editor_decided_at == decided
    assert signals == [Story]

    # Unpublishing on the page is recorded too.
    page = editor_client.get(change_url(story))
    data = form_data(page, "story_form")
    del data["published"]
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(change_url(story), {**data, "_save": "Save"})
    story.refresh_from_db()
    assert not story.published
    assert history(story)[-1].get_change_message() == "Unpublished on the change page."


# --- re-imports -------------------------------------------------------------

SEED = """---
title: "{title}"
excerpt: "{excerpt}"
publishedDateTime: 2024-03-01T10:00:00Z
webUrl: "https://{domain}/2024/03/01/{slug}/"
published: {published}
provider:
  name: "{outlet}"
  domain: {domain}
topics:
  - AI
---
"""


def write_seed(path, **kw):
    fields = dict(title="Robots learn to fold laundry", excerpt="First version.", published="false")
    fields.update(kw)
    fields.setdefault("domain", "herald.example.com")
    fields.setdefault("outlet", "The Herald")
    fields.setdefault("slug", re.sub(r"\W+", "-", fields["title"].lower()))
    path.write_text(SEED.format(**fields))
    return path


def test_reimport_never_overrides_the_editors_decision(editor_client, tmp_path):
    draft_file = write_seed(tmp_path / "draft.md")
    live_file = write_seed(tmp_path / "live.md", title="Chips get faster", published="true", domain="wire.example.com")
    call_command("import_stories", str(tmp_path), verbosity=0)
    draft = Story.objects.get(lead__web_url__contains="herald.example.com")
    live = Story.objects.get(lead__web_url__contains="wire.example.com")
    assert not draft.published and live.published

    assert messages_of(run_action(editor_client, "publish_stories", [draft])) == ["Published 1 story."]
    assert messages_of(run_action(editor_client, "unpublish_stories", [live])) == ["Unpublished 1 story."]

    # The documents change (so they are imported again), still saying the opposite.
    write_seed(draft_file, excerpt="Second version.")
    write_seed(live_file, title="Chips get faster", published="true", domain="wire.example.com", excerpt="New.")
    call_command("import_stories", str(tmp_path), verbosity=0)

    draft.refresh_from_db()
    live.refresh_from_db()
    assert draft.published, "the re-import must not unpublish what an editor published"
    assert not live.published, "the re-import must not publish what an editor unpublished"
    assert draft.lead.excerpt == "Second version."
    assert live.lead.excerpt == "New."
    # The admin shows it too.
    page = editor_client.get(CHANGELIST, {"published__exact": "1"})
    assert rows(page) == {draft.pk}


# --- filters and search -----------------------------------------------------


@pytest.fixture
def varied_stories(db):
    globe = make_provider("globe.example.com", "Boston Globe")
    wire = make_provider("wire.example.com", "Tech Wire")
    ai, robots = make_topic("AI"), make_topic("Robots")
    a = make_story(
        "Lawmakers debate face recognition",
        provider=globe,
        topics=[ai],
        category="news",
        heat=-1,
        published_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
    )
    b = make_story(
        "Robot arms fold laundry",
        provider=wire,
        published=False,
        topics=[robots],
        category="tech",
        heat=50,
        image={"url": "https://wire.example.com/a.jpg"},
        published_at=datetime(2023, 1, 5, 12, tzinfo=UTC),
    )
    c = make_story(
        "Chip makers report profits",
        provider=wire,
        category="",
        heat=10,
        published_at=datetime(2024, 6, 1, 12, tzinfo=UTC),
    )
    return {"a": a, "b": b, "c": c, "globe": globe, "wire": wire}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "abc"),
        ({"published__exact": "1"}, "ac"),
        ({"published__exact": "0"}, "b"),
        ({"topic": "ai"}, "a"),
        ({"topic": "robots"}, "b"),
        ({"topic": "_none"}, "c"),
        ({"provider": "wire-example-com"}, "bc"),
        ({"category": "tech"}, "b"),
        ({"scored": "no"}, "a"),
        ({"scored": "yes"}, "bc"),
        ({"has_image": "yes"}, "b"),
        ({"has_image": "no"}, "ac"),
        ({"published_at__year": "2023"}, "b"),
        ({"published_at__year": "2024", "published_at__month": "6"}, "c"),
        ({"q": "laundry"}, "b"),
        ({"q": "FACE recognition"}, "a"),
        ({"q": "tech wire"}, "bc"),
        ({"q": "globe"}, "a"),
        ({"q": "wire", "published__exact": "1"}, "c"),
    ],
)
def test_filters_and_search_return_the_right_rows(editor_client, varied_stories, params, expected):
    response = editor_client.get(CHANGELIST, params)
    assert response.status_code == 200
    assert rows(response) == {varied_stories[key].pk for key in expected}


def test_changelist_columns(editor_client, varied_stories):
    html = editor_client.get(CHANGELIST).content.decode()
    for text in ["Lawmakers debate face recognition", "Boston Globe", "Robots", "unscored"]:
        assert text in html
    assert 'alt=""> Yes' in html and 'alt=""> No' in html
    # Newest first.
    assert html.index("Chip makers") < html.index("Lawmakers") < html.index("Robot arms")


def test_provider_filter_lists_only_the_busiest_outlets_but_takes_any(editor_client):
    outlets = [make_provider(f"o{n}.example.com", f"Outlet {n:02}") for n in range(25)]
    quiet = outlets[-1]
    story = make_story("From a quiet outlet", provider=quiet)
    make_story("From a busy outlet", provider=outlets[0])
    for n, outlet in enumerate(outlets):  # a ranking planted after make_story, which stores the real counts
        Provider.objects.filter(pk=outlet.pk).update(led_count=100 - n)

    def provider_spec(response):
        return filter_spec(response, "provider")

    spec = provider_spec(editor_client.get(CHANGELIST))
    assert [slug for slug, _ in spec.lookup_choices] == [o.slug for o in outlets[: admin_filters.BUSIEST_PROVIDERS]]

    response = editor_client.get(CHANGELIST, {"provider": quiet.slug})
    assert rows(response) == {story.pk}
    assert (quiet.slug, quiet.name) in provider_spec(response).lookup_choices


def test_category_choices_are_cached(editor_client, varied_stories):
    editor_client.get(CHANGELIST)
    make_story("Another", category="sports")
    with CaptureQueriesContext(connection) as queries:
        response = editor_client.get(CHANGELIST)
    spec = filter_spec(response, "category")
    assert [value for value, _ in spec.lookup_choices] == ["news", "tech"]
    assert not any("DISTINCT" in q["sql"] and '"category"' in q["sql"] for q in queries.captured_queries)


# --- a large table ----------------------------------------------------------


def make_many(count, start=0):
    topics = [make_topic(name) for name in ("AI", "Robots", "Chips")]
    outlets = [make_provider(f"many{n}.example.com", f"Many {n}") for n in range(5)]
    for n in range(start, start + count):
        make_story(
            f"Story number {n}",
            provider=outlets[n % 5],
            topics=topics[: n % 3 + 1],
            coverage=[{"provider": outlets[(n + 1) % 5]}],
            published=n % 2 == 0,
            image={"url": "https://x.example.com/i.jpg"} if n % 4 == 0 else None,
        )


@pytest.mark.parametrize("params", [{}, {"published__exact": "1", "topic": "ai"}, {"q": "story", "scored": "no"}])
def test_changelist_query_count_does_not_depend_on_rows_per_page(editor_client, params):
    make_many(1)
    editor_client.get(CHANGELIST, params)  # fills the hour-long choice caches
    with CaptureQueriesContext(connection) as one:
        response = editor_client.get(CHANGELIST, params)
    assert len(response.context["cl"].result_list) == 1

    make_many(199, start=1)
    with CaptureQueriesContext(connection) as many:
        response = editor_client.get(CHANGELIST, params)
    assert len(response.context["cl"].result_list) == 100  # a full page
    assert len(one.captured_queries) == len(many.captured_queries), "\n".join(q["sql"] for q in many.captured_queries)
    if not params:
        # Session, user, permissions (2), filter choices (2), count (PostgreSQL: the estimate first),
        # the page's ids, its rows, their topics, the date range.
        expected = 12 if connection.vendor == "postgresql" else 11
        assert len(many.captured_queries) == expected, "\n".join(q["sql"] for q in many.captured_queries)


def test_unfiltered_large_list_uses_the_estimate_and_says_about(editor_client, monkeypatch):
    make_many(3)
    monkeypatch.setattr(changelist, "estimated_rows", lambda model, using="default": 250_000)
    with CaptureQueriesContext(connection) as queries:
        response = editor_client.get(CHANGELIST)
    cl = response.context["cl"]
    assert cl.result_count == 250_000 and cl.paginator.is_estimate
    assert "about 250000 stories" in response.content.decode()
    assert not any(re.match(r"SELECT COUNT\(\*\)", q["sql"]) for q in queries.captured_queries)
    # Filtered lists are counted exactly.
    response = editor_client.get(CHANGELIST, {"published__exact": "1"})
    assert response.context["cl"].result_count == 2
    assert not response.context["cl"].paginator.is_estimate


@pytest.mark.django_db
def test_estimated_rows_reads_the_planner_estimate_on_postgresql_only():
    make_many(3)
    if connection.vendor != "postgresql":
        assert changelist.estimated_rows(Story) is None
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stories_story")
    assert changelist.estimated_rows(Story) == 3
    # Small tables are counted exactly whatever the estimate says.
    paginator = changelist.EstimatedCountPaginator(Story.objects.all(), 100)
    assert paginator.count == 3 and not paginator.is_estimate


def test_date_hierarchy_offers_the_range_from_one_query(editor_client, varied_stories):
    def links(params):
        with CaptureQueriesContext(connection) as queries:
            response = editor_client.get(CHANGELIST, params)
        assert not any("DISTINCT" in q["sql"] and "published_at" in q["sql"] for q in queries.captured_queries)
        hierarchy = response.context["cl"].date_hierarchy_links
        return [choice["title"] for choice in hierarchy["choices"]], hierarchy["back"]

    assert links({}) == (["2023", "2024"], None)
    titles, back = links({"published_at__year": "2024"})
    assert titles == ["May 2024", "June 2024"] and back["title"] == "All dates"
    titles, back = links({"published_at__year": "2024", "published_at__month": "5"})
    assert titles == ["May 1"] and back["title"] == "2024"
    titles, back = links({"published_at__year": "2024", "published_at__month": "5", "published_at__day": "1"})
    assert titles == ["May 1"] and back["title"] == "May 2024"
    # One story (or one year, one month) starts lower down, as Django's own does.
    assert links({"published__exact": "0"}) == (
        ["January 5"],
        {"link": "?published__exact=0&published_at__year=2023", "title": "2023"},
    )
    assert links({"q": "nothing matches this"})[0] == []
    html = editor_client.get(CHANGELIST).content.decode()
    assert 'href="?published_at__year=2023"' in html


# --- permissions and safety ---------------------------------------------------


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_non_staff_cannot_log_in_to_the_admin():
    get_user_model().objects.create_user("reader", password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    response = login(client, "reader")
    assert response.status_code == 200
    assert "Please enter the correct username and password for a staff account" in response.content.decode()
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_csrf_protection_stays_on(editor):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": "edith", "password": PASSWORD})
    assert response.status_code == 403
    story = make_story("Draft", published=False)
    client = logged_in_client("edith")
    response = client.post(CHANGELIST, {"action": "publish_stories", "index": 0, "_selected_action": [story.pk]})
    assert response.status_code == 403
    story.refresh_from_db()
    assert not story.published


def test_staff_without_change_permission_cannot_publish(viewer):
    story = make_story("A draft", published=False)
    client = logged_in_client("victor")
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "publish_stories" not in page.content.decode()
    response = run_action(client, "publish_stories", [story])  # forged: the action is not offered
    assert response.status_code == 200 and messages_of(response) == []
    # Nor on the change page: it is read-only, and a forged POST is refused.
    page = client.get(change_url(story))
    assert page.status_code == 200 and 'name="published"' not in page.content.decode()
    response = client.post(change_url(story), {"published": "on", "csrfmiddlewaretoken": csrf_token(page)})
    assert response.status_code == 403
    story.refresh_from_db()
    assert not story.published and story.editor_decided_at is None
    assert history(story) == []


def test_editors_only_view_the_other_models_and_never_add_or_delete(editor_client):
    story = make_story("Something")
    article = story.lead
    assert editor_client.get("/admin/stories/story/add/").status_code == 403
    assert editor_client.get(reverse("admin:stories_story_delete", args=[story.pk])).status_code == 403
    page = editor_client.get(reverse("admin:stories_article_change", args=[article.pk]))
    assert page.status_code == 200
    response = editor_client.post(
        reverse("admin:stories_article_change", args=[article.pk]),
        {"title": "Defaced", "csrfmiddlewaretoken": csrf_token(page)},
    )
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.title == "Something"
    page = editor_client.get(CHANGELIST)
    assert "delete_selected" not in page.content.decode()


def test_other_admin_pages_search_and_names(editor_client, varied_stories):
    index = editor_client.get("/admin/").content.decode()
    assert "Stories" in index and "Storys" not in index
    assert "Providers" in index and "Topics" in index and "Articles" in index

    response = editor_client.get("/admin/stories/article/", {"q": "laundry"})
    assert {a.title for a in response.context["cl"].result_list} == {"Robot arms fold laundry"}
    response = editor_client.get("/admin/stories/article/", {"provider": "globe-example-com"})
    assert {a.title for a in response.context["cl"].result_list} == {"Lawmakers debate face recognition"}
    response = editor_client.get("/admin/stories/provider/", {"q": "wire.example"})
    assert [p.name for p in response.context["cl"].result_list] == ["Tech Wire"]
    response = editor_client.get("/admin/stories/topic/", {"q": "robo"})
    assert [t.name for t in response.context["cl"].result_list] == ["Robots"]
    # Outlets link to their published stories in the story list.
    html = editor_client.get("/admin/stories/provider/").content.decode()
    assert "provider=wire-example-com&amp;published__exact=1" in html


def test_provider_autocomplete_for_articles(db):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    make_provider("globe.example.com", "Boston Globe")
    make_provider("wire.example.com", "Tech Wire")
    client = logged_in_client("root")
    article = make_article("Some article")
    page = client.get(reverse("admin:stories_article_change", args=[article.pk]))
    assert "admin-autocomplete" in page.content.decode()
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "stories", "model_name": "article", "field_name": "provider", "term": "glob"},
    )
    assert [item["text"] for item in response.json()["results"]] == ["Boston Globe (globe.example.com)"]


# --- login throttling -------------------------------------------------------


def test_admin_login_locks_out_after_five_failures_until_reset(editor):
    client = Client(enforce_csrf_checks=True)
    for attempt in range(1, 6):
        response = login(client, "edith", "wrong password")
        assert response.status_code == (429 if attempt == 5 else 200)
    response = login(client, "edith")
    assert response.status_code == 429, "the right password is refused while locked out"
    assert "_auth_user_id" not in client.session
    # Lockout is per user name and address: the same account from elsewhere still gets in.
    assert login(Client(enforce_csrf_checks=True), "edith", REMOTE_ADDR="192.0.2.7").status_code == 302

    call_command("axes_reset_username", "edith", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = login(client, "edith")
    assert response.status_code == 302


# --- create_editor ----------------------------------------------------------


@pytest.mark.django_db
def test_create_editor_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_EDITOR_PASSWORD", PASSWORD)
    call_command("create_editor", "alice", "--email", "alice@example.com", "--no-input")
    user = get_user_model().objects.get(username="alice")
    assert user.is_staff and not user.is_superuser and user.email == "alice@example.com"
    assert user.check_password(PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == ["Editors"]
    assert user.has_perm("stories.change_story") and user.has_perm("stories.view_article")
    assert not user.has_perm("stories.change_article")
    assert "Created editor 'alice'" in capsys.readouterr().out
    # The account works with the real login form.
    logged_in_client("alice")


@pytest.mark.django_db
def test_create_editor_needs_a_password_without_input(monkeypatch):
    monkeypatch.delenv("DJANGO_EDITOR_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DJANGO_EDITOR_PASSWORD"):
        call_command("create_editor", "bob", "--no-input")
    with pytest.raises(CommandError, match="user name"):
        call_command("create_editor", "--no-input")
    monkeypatch.setenv("DJANGO_EDITOR_PASSWORD", "123")
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_editor", "bob", "--no-input")
    assert not get_user_model().objects.filter(username="bob").exists()


@pytest.mark.django_db
def test_create_editor_asks_and_updates_an_existing_user(monkeypatch, capsys):
    monkeypatch.delenv("DJANGO_EDITOR_PASSWORD", raising=False)
    answers = iter(["mismatch-one-Quill-1", "mismatch-two-Quill-2", PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr("builtins.input", lambda prompt="": "carol")
    call_command("create_editor")
    user = get_user_model().objects.get(username="carol")
    assert user.is_staff and user.check_password(PASSWORD)
    assert "The two passwords differ." in capsys.readouterr().err

    # An existing user (not yet staff) is made an editor and keeps the password.
    get_user_model().objects.create_user("dave", password=PASSWORD)
    call_command("create_editor", "dave", "--no-input")
    dave = get_user_model().objects.get(username="dave")
    assert dave.is_staff and dave.groups.filter(name="Editors").exists() and dave.check_password(PASSWORD)
    assert "password unchanged" in capsys.readouterr().out


@pytest.mark.django_db
def test_verbose_names_never_read_storys():
    assert Story._meta.verbose_name_plural == "stories"
    for model in (Article, Provider, Topic):
        assert not model._meta.verbose_name_plural.endswith("ys")


# --- coverage takedown --------------------------------------------------------------


def article_history(article):
    return list(
        LogEntry.objects.filter(
            content_type__app_label="stories", content_type__model="article", object_id=str(article.pk)
        ).order_by("pk")
    )


def post_form(client, url, **data):
    page = client.get(url)
    assert page.status_code == 200, page.content[:500]
    return page, client.post(url, {**data, "csrfmiddlewaretoken": csrf_token(page)}, follow=True)


@pytest.fixture
def story_with_coverage(db):
    alpha = make_article("Alpha's wrong link", provider=make_provider("alpha.example.com", "Alpha Wire"))
    beta = make_article("Beta's fine item", provider=make_provider("beta.example.com", "Beta Post"))
    return make_story("Ferry service resumes", coverage=[alpha, beta]), alpha, beta


def test_an_editor_hides_an_item_from_a_story_and_restores_it_with_history(
    editor, editor_client, story_with_coverage, signals, django_capture_on_commit_callbacks
):
    story, alpha, _ = story_with_coverage
    page = editor_client.get(change_url(story)).content.decode()
    hide_url = reverse("admin:stories_story_hide_coverage", args=[story.pk, alpha.pk])
    assert f'href="{hide_url}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        _, response = post_form(editor_client, hide_url, reason="Legal request from Alpha")
    assert response.redirect_chain[-1][0] == change_url(story)
    assert messages_of(response) == [
        "Hid the coverage item “Alpha's wrong link” (Alpha Wire) from this story. Reason: Legal request from Alpha"
    ]
    assert signals == [Story]
    [entry] = history(story)
    assert entry.user == editor and "Legal request from Alpha" in entry.get_change_message()
    story.refresh_from_db()
    assert story.coverage_count == 1
    # The coverage table says so, with the way back; the public page no longer shows it.
    page = response.content.decode()
    restore_url = reverse("admin:stories_story_restore_coverage", args=[story.pk, alpha.pk])
    assert "Hidden from this story on" in page and f'href="{restore_url}"' in page
    assert "Alpha's wrong link" not in Client().get(story.get_absolute_url()).content.decode()
    assert history_page_lists(editor_client, story, "Legal request from Alpha")
    # Hiding it again (a second tab, a double submit) changes nothing and records nothing.
    _, response = post_form(editor_client, hide_url, reason="Legal request from Alpha")
    assert messages_of(response) == ["Nothing changed: the item was already hidden."]
    assert len(history(story)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        _, response = post_form(editor_client, restore_url)
    assert messages_of(response)[0].startswith("Restored the coverage item “Alpha's wrong link” (Alpha Wire)")
    assert "Legal request from Alpha" in messages_of(response)[0]
    assert len(history(story)) == 2 and history(story)[-1].user == editor
    story.refresh_from_db()
    assert story.coverage_count == 2
    assert "Alpha's wrong link" in Client().get(story.get_absolute_url()).content.decode()


def history_page_lists(client, story, text):
    page = client.get(reverse("admin:stories_story_history", args=[story.pk]))
    return page.status_code == 200 and text in page.content.decode()


def test_a_takedown_needs_a_reason_and_the_permission(editor_client, viewer, story_with_coverage):
    story, alpha, _ = story_with_coverage
    hide_url = reverse("admin:stories_story_hide_coverage", args=[story.pk, alpha.pk])
    _, response = post_form(editor_client, hide_url, reason="   ")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not CoverageTakedown.objects.exists() and history(story) == []

    viewer_client = logged_in_client("victor")
    assert viewer_client.get(hide_url).status_code == 403
    assert viewer_client.post(hide_url, {"reason": "x"}).status_code == 403
    article_hide = reverse("admin:stories_article_hide", args=[alpha.pk])
    assert viewer_client.get(article_hide).status_code == 403
    assert not CoverageTakedown.objects.exists()
    # An article that is not in the story's coverage has no such page.
    assert (
        editor_client.get(reverse("admin:stories_story_hide_coverage", args=[story.pk, story.lead.pk])).status_code
        == 404
    )


def test_an_editor_hides_an_article_everywhere_and_restores_it(
    editor, editor_client, story_with_coverage, django_capture_on_commit_callbacks
):
    story, alpha, _ = story_with_coverage
    other = make_story("Ferry fares rise", coverage=[alpha])
    article_page = editor_client.get(reverse("admin:stories_article_change", args=[alpha.pk])).content.decode()
    hide_url = reverse("admin:stories_article_hide", args=[alpha.pk])
    assert f'href="{hide_url}"' in article_page and "Hide everywhere…" in article_page

    with django_capture_on_commit_callbacks(execute=True):
        _, response = post_form(editor_client, hide_url, reason="Court order 12/2024")
    message = "Hid “Alpha's wrong link” (Alpha Wire) from every story. Reason: Court order 12/2024"
    assert messages_of(response) == [message]
    for entry in (*article_history(alpha), *history(story), *history(other)):
        assert entry.user == editor and entry.get_change_message() == message
    assert len(article_history(alpha)) == 1 and len(history(story)) == len(history(other)) == 1
    page = response.content.decode()
    assert "No: hidden from every story on" in page and "Restore everywhere…" in page
    assert "Hidden everywhere on" in editor_client.get(change_url(other)).content.decode()
    other.refresh_from_db()
    assert other.coverage_count == 0

    with django_capture_on_commit_callbacks(execute=True):
        _, response = post_form(editor_client, reverse("admin:stories_article_restore", args=[alpha.pk]))
    assert messages_of(response)[0].startswith("Restored “Alpha's wrong link” (Alpha Wire) to every story")
    assert len(article_history(alpha)) == 2
    other.refresh_from_db()
    assert other.coverage_count == 1


def test_hiding_a_lead_article_everywhere_is_refused_with_the_way_to_go(editor_client, story_with_coverage):
    story, _, _ = story_with_coverage
    _, response = post_form(editor_client, reverse("admin:stories_article_hide", args=[story.lead.pk]), reason="Legal")
    page = response.content.decode()
    assert response.status_code == 200
    assert "is the headline article of the story" in page and "unpublish it" in page
    story.lead.refresh_from_db()
    assert story.lead.hidden_at is None and article_history(story.lead) == []
