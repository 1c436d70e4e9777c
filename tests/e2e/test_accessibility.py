"""axe-core in the page (WCAG 2.2 AA rules) on every kind of page, light and dark; screenshots for reviewers.

axe-playwright-python bundles axe-core and evaluates it through the DevTools protocol,
which the site's strict Content-Security-Policy does not block: nothing is fetched.
Each run writes tests/e2e/screenshots/<page>-<phone|desktop>-<light|dark>.png (git-ignored)
and axe-<size>-<scheme>.json, every violation found (of any impact), for a reviewer to read.
"""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import SCREENSHOTS, SIZES, screenshot
from tests.e2e.support import reference_pages

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = ("serious", "critical")

axe = Axe()


def summarize(violation):
    targets = [", ".join(map(str, node["target"])) for node in violation["nodes"]]
    return f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets[:5]}"


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_and_screenshots(site, make_context, scheme, size):
    context = make_context(viewport=SIZES[size], color_scheme=scheme, reduced_motion="reduce")
    page = context.new_page()
    blocking, report = [], {}
    for name, path in reference_pages().items():
        response = page.goto(site.url + path)
        assert response.status == (404 if name == "404" else 200), f"{path}: {response.status}"
        assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
        screenshot(page, f"{name}-{size}-{scheme}")
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        report[name] = [summarize(v) for v in violations]
        blocking += [f"{name} ({path}): {summarize(v)}" for v in violations if v["impact"] in BLOCKING]
    (SCREENSHOTS / f"axe-{size}-{scheme}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    assert not blocking, f"axe: serious or critical violations, {size} {scheme}:\n" + "\n".join(blocking)
