"""The filter fields show the value applied or nothing; their errors name what was rejected; chips agree."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest

from stories.filters import StoryFilter
from stories.models import Story
from tests.factories import BASE_TIME, make_provider, make_story
from tests.views.helpers import chips as page_chips
from tests.views.helpers import parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def stories():
    alpha = make_provider("a.example.com", "Alpha")
    make_story("Facial recognition now", provider=alpha, topics=["AI"], quality=80, category="news")
    make_story("Facial recognition before", topics=["Robots"], quality=20, published_at=BASE_TIME - timedelta(days=9))


def get(client, path="/", **params):
    response = client.get(f"{path}?{urlencode(params)}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def field_value(page, name):
    """The value a filter field shows: an input's value attribute, a select's selected option (None: nothing)."""
    document = parse(page)
    inputs = document.find_all("input", name=name)
    if inputs:
        return inputs[0].get("value")
    chosen = document.find("select", name=name).find_all("option", selected=True)
    return chosen[0].text if chosen else None


def error(page, name):
    found = parse(page).find_all("p", class_="error", id=f"id_{name}_error")
    return found[0].text if found else None


def chips(page):
    """{label: shown value} of the active filter chips."""
    return {label: shown for label, (shown, _remove) in page_chips(parse(page)).items()}


# --- dates ----------------------------------------------------------------------


def test_an_iso_date_is_applied_and_shown_as_given(client, stories):
    page = get(client, since="2024-04-30")
    assert field_value(page, "since") == "2024-04-30" and chips(page) == {"From": "2024-04-30"}
    assert "Facial recognition now" in page and "Facial recognition before" not in page


@pytest.mark.parametrize(
    "rejected",
    [
        *("06/01/2020", "01/06/2020", "06/01/20", "2020/06/01", "2020-6-1", "20200601", "2020-06-01T00:00"),
        *("Jun 1 2020", "notadate", "2020-13-45", "2021-02-29", "0000-01-01", "+2020-06-01"),
        "\u0662\u0660\u0662\u0660-\u0660\u0666-\u0660\u0661",  # 2020-06-01 in Arabic-Indic digits
    ],
)
def test_a_date_not_written_yyyy_mm_dd_is_rejected_shown_empty_and_named(client, stories, rejected):
    page = get(client, "/search/", q="facial", since=rejected)
    assert field_value(page, "since") is None
    assert error(page, "since") == f"“{rejected}” is not a date: use YYYY-MM-DD."
    assert chips(page) == {}
    assert "Facial recognition now" in page and "Facial recognition before" in page  # not applied


def test_the_filterset_itself_rejects_other_date_formats():
    filterset = StoryFilter({"since": "06/01/2020", "until": "2020-06-01"}, Story.objects.all())
    assert filterset.form.errors == {"since": ["“06/01/2020” is not a date: use YYYY-MM-DD."]}
    assert [name for name, _, _ in filterset.active()] == ["until"]


def test_dates_at_either_end_of_the_calendar_are_shown_with_four_digit_years(client, stories):
    page = get(client, since="0001-01-01", until="9999-12-31")
    assert field_value(page, "since") == "0001-01-01" and field_value(page, "until") == "9999-12-31"
    assert chips(page) == {"From": "0001-01-01", "To": "9999-12-31"}


def test_an_end_before_the_start_is_rejected_and_the_start_kept(client, stories):
    page = get(client, since="2024-05-01", until="2024-04-01")
    assert field_value(page, "since") == "2024-05-01" and field_value(page, "until") is None
    assert error(page, "until") == "The end date “2024-04-01” comes before the start date."
    assert chips(page) == {"From": "2024-05-01"}


# --- the minimum quality -----------------------------------------------------------


@pytest.mark.parametrize(
    ("rejected", "message"),
    [
        ("abc", "“abc” is not a whole number."),
        ("1.5", "“1.5” is not a whole number."),
        ("1e3", "“1e3” is not a whole number."),
        ("-5", "“-5” is below the lowest, 0."),
        ("99999999999", "“99999999999” is above the highest, 2147483647."),
    ],
)
def test_a_quality_that_is_no_whole_number_in_range_is_rejected_shown_empty_and_named(
    client, stories, rejected, message
):
    page = get(client, min_quality=rejected)
    assert field_value(page, "min_quality") is None
    assert error(page, "min_quality") == message
    assert chips(page) == {}


@pytest.mark.parametrize("given", ["50", " 50 ", "50.0"])
def test_a_quality_is_shown_as_the_number_applied(client, stories, given):
    page = get(client, min_quality=given)
    assert field_value(page, "min_quality") == "50" and chips(page) == {"Minimum quality": "50"}
    assert "Facial recognition now" in page and "Facial recognition before" not in page


# --- choices and text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("topic", "“nope” is not a topic with stories."),
        ("provider", "“nope” is not an outlet with stories."),
    ],
)
def test_an_unknown_slug_selects_nothing_and_is_named(client, stories, name, message):
    page = get(client, **{name: "nope"})
    assert field_value(page, name) is None and " selected>" not in page
    assert error(page, name) == message
    assert chips(page) == {}


def test_rejected_text_is_escaped_and_shortened_in_the_error(client, stories):
    page = get(client, since="<b>x</b>", topic="t" * 60)
    assert "“&lt;b&gt;x&lt;/b&gt;” is not a date" in page
    assert error(page, "topic") == f"“{'t' * 40}…” is not a topic with stories."
    page = get(client, category="c" * 150)
    assert field_value(page, "category") is None
    assert error(page, "category") == f"“{'c' * 40}…” is too long: at most 100 characters."


def test_chips_show_what_the_fields_show(client, stories):
    applied = {
        "topic": "ai",
        "provider": "a-example-com",
        "category": " News ",
        "type": 'it\'s "video"',
        "since": "2024-04-01",
        "until": "2024-05-31",
        "min_quality": "0",
    }
    page = get(client, **applied)
    shown = {name: field_value(page, name) for name in applied}
    assert shown == {
        "topic": "AI",
        "provider": "Alpha",
        "category": "News",  # stripped, as it is applied
        "type": 'it\'s "video"',
        "since": "2024-04-01",
        "until": "2024-05-31",
        "min_quality": "0",
    }
    labels = {name: filter.label for name, filter in StoryFilter.base_filters.items()}
    assert chips(page) == {labels[name]: value for name, value in shown.items()}


def test_a_rejected_field_leaves_the_applied_ones_alone(client, stories):
    page = get(client, topic="ai", since="notadate", min_quality="abc")
    assert field_value(page, "topic") == "AI" and chips(page) == {"Topic": "AI"}
    assert field_value(page, "since") is None and field_value(page, "min_quality") is None
    assert "Facial recognition now" in page and "Facial recognition before" not in page


def test_an_unfiltered_page_shows_empty_fields(client, stories):
    page = get(client)
    assert all(field_value(page, name) is None for name in StoryFilter.base_filters)
    assert chips(page) == {} and 'class="error"' not in page
