"""The 404 and 500 pages: friendly, and in the site's layout."""

import pytest
from django.template.loader import get_template

from tests.views.helpers import parse

pytestmark = pytest.mark.django_db


def stylesheets(document):
    return [link.get("href") for link in document.find_all("link", rel="stylesheet")]


def test_404_page_is_friendly_and_in_the_layout(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    missing = parse(response.content.decode())
    assert [heading.text for heading in missing.find_all("h1")] == ["Page not found"]
    assert missing.find("a", class_="skip-link")
    assert any("css/site." in href for href in stylesheets(missing))


def test_500_page_renders_without_any_context():
    broken = parse(get_template("500.html").render())
    assert [heading.text for heading in broken.find_all("h1")] == ["Something went wrong"]
    assert any("css/site." in href for href in stylesheets(broken))
