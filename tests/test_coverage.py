"""stories.coverage: a story's coverage rows, its timeline, its first reporter and its related stories."""

from datetime import timedelta

import pytest

from stories.coverage import (
    RELATED_SIZE,
    RELATED_WINDOW,
    CoverageRow,
    coverage_rows,
    first_reporter,
    related_stories,
    story_for_page,
    timeline,
)
from stories.models import Story
from stories.templatetags.reader import lead_lag
from tests.factories import BASE_TIME, hours, make_provider, make_story

pytestmark = pytest.mark.django_db


def page_story(story):
    """The story as its page loads it: lead, coverage and topics in hand."""
    return Story.objects.for_story_page().get(pk=story.pk)


@pytest.fixture
def covered():
    """A story led at BASE_TIME, covered twice by Alpha, once by Beta (earlier) and once by Gamma (later)."""
    alpha = make_provider("alpha.example.com", "Alpha")
    beta = make_provider("beta.example.com", "Beta")
    gamma = make_provider("gamma.example.com", "gamma")  # lower case: names sort without regard to case
    story = make_story(
        "Lead",
        published_at=BASE_TIME,
        coverage=[
            {"title": "Alpha low", "provider": alpha, "quality": 1, "published_at": BASE_TIME + hours(1)},
            {"title": "Alpha high", "provider": alpha, "quality": 9, "published_at": BASE_TIME + hours(2)},
            {"title": "Beta", "provider": beta, "quality": 5, "published_at": BASE_TIME - hours(4)},
            {"title": "Gamma", "provider": gamma, "quality": 5, "published_at": BASE_TIME + timedelta(minutes=25)},
        ],
    )
    return page_story(story)


def titles(rows):
    return [row.best.title for row in rows]


def test_one_row_per_outlet_best_item_first_by_quality(covered, django_assert_num_queries):
    with django_assert_num_queries(0):
        rows = coverage_rows(covered, "quality")
    assert all(isinstance(row, CoverageRow) for row in rows)
    assert titles(rows) == ["Alpha high", "Beta", "Gamma"]  # quality, then the earlier of equals
    assert [row.provider.name for row in rows] == ["Alpha", "Beta", "gamma"]
    assert [article.title for article in rows[0].others] == ["Alpha low"]


def test_rows_by_time_and_every_item_gets_its_lag_behind_the_lead(covered):
    rows = coverage_rows(covered, "time")
    assert titles(rows) == ["Beta", "Gamma", "Alpha high"]
    assert rows[0].best.lag == lead_lag(BASE_TIME - hours(4), BASE_TIME) == "4 h earlier"
    assert rows[1].best.lag == "25 min later"
    assert rows[2].others[0].lag == lead_lag(BASE_TIME + hours(1), BASE_TIME)


def test_an_unknown_order_is_by_quality(covered):
    assert titles(coverage_rows(covered, "anything")) == titles(coverage_rows(covered, "quality"))


def test_a_story_without_coverage_has_no_rows():
    assert coverage_rows(page_story(make_story("Alone")), "time") == []


def test_the_timeline_puts_the_lead_among_the_rows_at_its_time(covered):
    rows = coverage_rows(covered, "time")
    assert timeline(covered.lead, rows) == [{"row": rows[0]}, {"lead": True}, {"row": rows[1]}, {"row": rows[2]}]


def test_the_timeline_of_a_story_without_coverage_is_its_lead():
    story = page_story(make_story("Alone"))
    assert timeline(story.lead, []) == [{"lead": True}]


def test_the_first_reporter_is_the_earliest_article_lead_or_coverage(covered):
    first, lag = first_reporter(covered)
    assert first.title == "Beta" and lag == "4 h earlier"
    alone = page_story(make_story("Alone"))
    assert first_reporter(alone) == (alone.lead, "same time")


def test_related_stories_share_a_topic_are_published_and_near_in_time(django_assert_num_queries):
    story = page_story(make_story("Subject", topics=["AI", "Chips"]))
    near = make_story("Near", topics=["Chips"], published_at=BASE_TIME - timedelta(days=3))
    newer = make_story("Newer", topics=["AI"], published_at=BASE_TIME + hours(1))
    make_story("Draft", topics=["AI"], published=False)
    make_story("Other topic", topics=["Space"])
    make_story("Too old", topics=["AI"], published_at=BASE_TIME - RELATED_WINDOW - timedelta(days=1))
    with django_assert_num_queries(1):
        related = related_stories(story)
        assert [(s.pk, s.lead.title, s.lead.provider.name) for s in related] == [
            (newer.pk, "Newer", newer.lead.provider.name),
            (near.pk, "Near", near.lead.provider.name),
        ]


def test_at_most_a_few_related_stories():
    story = page_story(make_story("Subject", topics=["AI"]))
    for n in range(RELATED_SIZE + 2):
        make_story(f"Related {n}", topics=["AI"], published_at=BASE_TIME - hours(n + 1))
    assert len(related_stories(story)) == RELATED_SIZE


def test_a_story_without_topics_has_no_related_stories(django_assert_num_queries):
    story = page_story(make_story("No topics"))
    make_story("Anything", topics=["AI"])
    with django_assert_num_queries(0):
        assert related_stories(story) == []


def test_a_story_for_its_page_is_what_for_story_page_loads_in_two_queries(covered, django_assert_num_queries):
    story = make_story("Tagged", topics=["zebra", "Beta", "alpha"], coverage=[{}, {}])
    for expected in (covered, page_story(story)):
        with django_assert_num_queries(2):
            loaded = story_for_page(expected.pk)
        with django_assert_num_queries(0):
            assert loaded.lead == expected.lead and loaded.lead.provider == expected.lead.provider
            assert [item.article for item in loaded.coverage_items.all()] == [
                item.article for item in expected.coverage_items.all()
            ]
            assert [item.article.provider for item in loaded.coverage_items.all()] == [
                item.article.provider for item in expected.coverage_items.all()
            ]
            assert [(t.pk, t.slug, t.name) for t in loaded.topics.all()] == [
                (t.pk, t.slug, t.name) for t in expected.topics.all()
            ]
            assert titles(coverage_rows(loaded, "time")) == titles(coverage_rows(expected, "time"))


def test_a_draft_is_for_its_page_only_with_drafts():
    draft = make_story("Draft", published=False)
    assert story_for_page(draft.pk) is None
    assert story_for_page(draft.pk, drafts=True).lead.title == "Draft"
    assert story_for_page(draft.pk + 1000) is None


def test_related_stories_are_found_for_each_story_and_number_of_topics():
    """The related query is compiled once per number of topics and run with each story's own values."""
    for count in (1, 2, 1):
        names = [f"Topic {n}" for n in range(count)]
        subject = page_story(make_story(f"Subject {count}", topics=names, published_at=BASE_TIME - hours(count)))
        other = make_story(f"Other {count}", topics=names[-1:], published_at=BASE_TIME - hours(count) - hours(1))
        assert other.pk in [story.pk for story in related_stories(subject)]
        assert subject.pk not in [story.pk for story in related_stories(subject)]
    muted = other.lead.provider.slug
    assert other.pk not in [story.pk for story in related_stories(subject, muted=(muted,))]
