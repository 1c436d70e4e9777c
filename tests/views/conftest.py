"""Stories more than one page-test file reads."""

from datetime import timedelta

import pytest

from tests.factories import BASE_TIME, hours, make_provider, make_story


@pytest.fixture
def draft():
    return make_story(
        "Secret draft about quantum chips",
        published=False,
        topics=["AI"],
        coverage=[{"title": "Draft coverage item"}],
        secured="never-shown-secured-value",
    )


@pytest.fixture
def covered_story():
    """A headline at noon and coverage around it, one outlet with three items."""
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    early = make_provider("early.example.com", "Early Bird")
    late = make_provider("late.example.com", "Late Riser")
    many = make_provider("many.example.com", "Many Items")
    same = make_provider("same.example.com", "Same Time")
    return make_story(
        "The headline",
        provider=globe,
        published_at=BASE_TIME,
        lead={"amp_url": "https://bostonglobe.com/amp/1", "web_url": "https://bostonglobe.com/news/headline"},
        topics=["AI"],
        coverage=[
            {"title": "Late coverage", "provider": late, "published_at": BASE_TIME + hours(2), "quality": 70},
            {"title": "Many: best", "provider": many, "published_at": BASE_TIME + timedelta(days=3), "quality": 90},
            {"title": "Early coverage", "provider": early, "published_at": BASE_TIME - hours(4), "quality": 40},
            {"title": "Many: weaker", "provider": many, "published_at": BASE_TIME - hours(1), "quality": 10},
            {"title": "Many: weakest", "provider": many, "published_at": BASE_TIME + hours(1), "quality": 5},
            {"title": "Same time coverage", "provider": same, "published_at": BASE_TIME + timedelta(seconds=20)},
            {"title": "Late by minutes", "provider": globe, "published_at": BASE_TIME + timedelta(minutes=25)},
        ],
    )
