"""The outlet index and an outlet's page: what it led, what it covered, who covers the same stories."""

import re

import pytest

from tests.factories import BASE_TIME, hours, make_provider, make_story
from tests.views.helpers import in_order, next_link, page, text

pytestmark = pytest.mark.django_db


def test_provider_index_and_page(client):
    globe = make_provider("bostonglobe.com", "The Boston Globe")
    tc = make_provider("techcrunch.com", "TechCrunch")
    tnw = make_provider("thenextweb.com", "The Next Web")
    quiet = make_provider("quiet.example.com", "Quiet Outlet")
    make_story("Globe leads 1", provider=globe, coverage=[{"provider": tc}, {"provider": tnw}])
    make_story("Globe leads 2", provider=globe, coverage=[{"provider": tc}], published_at=BASE_TIME - hours(1))
    make_story("TechCrunch leads", provider=tc, coverage=[{"provider": globe}], published_at=BASE_TIME - hours(2))
    make_story("Quiet draft", provider=quiet, published=False)
    index = text(client.get("/providers/"))
    assert "The Boston Globe bostonglobe.com 2 1" in index
    assert "TechCrunch techcrunch.com 1 2" in index
    assert "The Next Web thenextweb.com 0 1" in index
    assert "Quiet Outlet" not in index
    assert in_order(index, "The Boston Globe", "TechCrunch", "The Next Web")

    shown = text(client.get("/providers/bostonglobe-com/"))
    led, covered = shown.index("Stories The Boston Globe led"), shown.index("Latest stories it covered")
    beside = shown.index("Often beside it")
    assert led < shown.index("Globe leads 1") < shown.index("Globe leads 2") < covered
    assert covered < shown.index("TechCrunch leads") < beside
    assert "TechCrunch 3 stories" in shown[beside:] and "The Next Web 1 story" in shown[beside:]
    assert in_order(shown[beside:], "TechCrunch", "The Next Web")
    assert client.get("/providers/quiet-example-com/").status_code == 404
    assert client.get("/providers/nobody/").status_code == 404


def test_provider_index_pages_through_every_outlet_once(client, monkeypatch):
    monkeypatch.setattr("stories.views.PROVIDERS_PER_PAGE", 2)
    for n in range(5):
        provider = make_provider(f"p{n}.example.com", f"Outlet P{n}")
        for _ in range(n % 3 + 1):
            make_story(provider=provider)
    seen, url = [], "/providers/"
    while url:
        shown = page(client.get(url))
        seen += re.findall(r"Outlet P\d", shown.text)
        found = next_link(shown)
        url = "/providers/" + found if found else None
    assert seen == ["Outlet P2", "Outlet P1", "Outlet P4", "Outlet P0", "Outlet P3"]  # most led first, then by id
