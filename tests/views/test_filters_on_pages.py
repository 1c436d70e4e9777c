"""The filters on the list pages: what each keeps, the chips that show and remove them, the form's state."""

from datetime import timedelta

import pytest

from tests.factories import BASE_TIME, make_provider, make_story
from tests.views.helpers import chips, page, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def filter_data():
    a = make_provider("a.example.com", "Alpha")
    b = make_provider("b.example.com", "Beta")
    make_story("Alpha on AI", provider=a, topics=["AI"], quality=80, category="news", published_at=BASE_TIME)
    make_story(
        "Beta on AI covered by Alpha",
        provider=b,
        topics=["AI"],
        quality=30,
        category="news",
        coverage=[{"provider": a}],
        published_at=BASE_TIME - timedelta(days=2),
    )
    make_story("Beta video", provider=b, topics=["Robots"], lead={"type": "video"}, category="business")


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("topic=ai", ["Alpha on AI", "Beta on AI covered by Alpha"], ["Beta video"]),
        ("provider=a-example-com", ["Alpha on AI", "Beta on AI covered by Alpha"], ["Beta video"]),
        ("mute=b-example-com", ["Alpha on AI"], ["Beta on AI covered by Alpha", "Beta video"]),
        ("category=NEWS", ["Alpha on AI", "Beta on AI covered by Alpha"], ["Beta video"]),
        ("type=video", ["Beta video"], ["Alpha on AI", "Beta on AI covered by Alpha"]),
        ("min_quality=50", ["Alpha on AI"], ["Beta on AI covered by Alpha", "Beta video"]),
        ("since=2024-05-01", ["Alpha on AI", "Beta video"], ["Beta on AI covered by Alpha"]),
        ("until=2024-04-30", ["Beta on AI covered by Alpha"], ["Alpha on AI", "Beta video"]),
        ("topic=ai&mute=a-example-com", ["Beta on AI covered by Alpha"], ["Alpha on AI", "Beta video"]),
        ("since=0001-01-01&until=9999-12-31", ["Alpha on AI", "Beta on AI covered by Alpha", "Beta video"], []),
    ],
)
def test_filters(client, filter_data, query, shown, hidden):
    visible = text(client.get(f"/?{query}"))
    for title in shown:
        assert title in visible, title
    for title in hidden:
        assert title not in visible, title
    assert "Remove the filter" in visible


def test_filters_on_search_and_topic_pages(client, filter_data):
    shown = text(client.get("/search/?q=beta&topic=ai"))
    assert "Beta on AI covered by Alpha" in shown and "Beta video" not in shown
    shown = text(client.get("/topics/ai/?mute=b-example-com"))
    assert "Alpha on AI" in shown and "Beta on AI" not in shown


def test_active_filters_show_as_chips_with_remove_links(client, filter_data):
    filtered = page(client.get("/?topic=ai&mute=b-example-com&sort=top"))
    assert chips(filtered) == {
        "Topic": ("AI", "?mute=b-example-com&sort=top"),
        "Mute outlets": ("Beta", "?topic=ai&sort=top"),
    }
    assert filtered.find("a", text="Clear all filters").get("href") == "/?sort=top"
    feed = filtered.find("link", rel="alternate", type="application/rss+xml").get("href")
    assert feed == "http://testserver/feeds/search.rss?topic=ai&mute=b-example-com"


def test_removing_a_filter_drops_the_forms_empty_fields(client, filter_data):
    # What the filter form sends: every field, most of them empty.
    filtered = page(client.get("/topics/ai/?provider=&mute=b-example-com&category=&type=&since=&min_quality="))
    # The last filter: back to the plain page, no "?provider=&…"
    assert chips(filtered) == {"Mute outlets": ("Beta", "/topics/ai/")}
    filtered = page(client.get("/?topic=ai&provider=&category=NEWS&type="))
    assert {label: remove for label, (_, remove) in chips(filtered).items()} == {
        "Topic": "?category=NEWS",
        "Category": "?topic=ai",
    }


@pytest.mark.parametrize(
    "query",
    [
        "topic=nope",
        "provider=nobody",
        "min_quality=abc",
        "min_quality=-3",
        "since=yesterday",
        "since=2024-05-02&until=2024-05-01",
    ],
)
def test_invalid_filters_show_errors_not_500(client, filter_data, query):
    shown = page(client.get(f"/?{query}"))
    assert shown.find_all(class_="error") and shown.find_all(aria_invalid="true")
    assert "open" in shown.find("details", class_="filters").attrs


def test_the_filter_form_marks_the_chosen_outlet_and_topic(client, filter_data):
    form = page(client.get("/?provider=b-example-com&topic=robots"))
    outlet = form.find("select", name="provider")
    assert [option.text for option in outlet.find_all("option", selected=True)] == ["Beta"]
    assert outlet.find("option", text="Beta").get("value") == "b-example-com"
    assert "selected" not in outlet.find("option", value="a-example-com", text="Alpha").attrs
    topic = form.find("select", name="topic")
    assert [option.get("value") for option in topic.find_all("option", selected=True)] == ["robots"]
    assert topic.find("option", value="robots").text == "Robots"
    assert len(form.find_all("option", selected=True)) == 2


def test_a_search_keeps_its_own_query_in_the_filter_form_once_the_fields_are_cached(client, filter_data):
    first = page(client.get("/search/?q=alpha"))
    second = page(client.get("/search/?q=beta"))  # the fields come from the cache; the query does not
    assert first.find("input", type="hidden", name="q").get("value") == "alpha"
    assert second.find("input", type="hidden", name="q").get("value") == "beta"
    assert not second.find_all(value="alpha")
    assert len(first.find_all("option", value="a-example-com", text="Alpha")) == 2  # outlet and mute-an-outlet


def test_the_cached_filter_form_lists_an_outlet_new_since_it_was_cached(client, filter_data):
    from stories.signals import content_changed

    assert page(client.get("/?warm=1")).find("option", value="a-example-com", text="Alpha")
    make_story("Gamma story", provider=make_provider("c.example.com", "Gamma"))
    content_changed.send(sender=None)  # what an import, a publish or an unpublish sends
    shown = page(client.get("/?warm=2"))
    assert shown.find("option", value="c-example-com", text="Gamma") and "Gamma story" in shown.text
