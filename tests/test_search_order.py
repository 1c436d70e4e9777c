"""stories.search says whether its results are ranked and in which order a results page shows them."""

from types import SimpleNamespace

from stories import search
from stories.pagination import NEWEST
from stories.search import SEARCH_KEYS, result_keys, results_are_ranked


def test_postgresql_ranks_results_by_relevance_then_newest(monkeypatch):
    monkeypatch.setattr(search, "connection", SimpleNamespace(vendor="postgresql"))
    assert results_are_ranked() is True
    assert result_keys() == SEARCH_KEYS


def test_other_databases_give_newest_first_without_a_rank(monkeypatch):
    for vendor in ("sqlite", "mysql"):
        monkeypatch.setattr(search, "connection", SimpleNamespace(vendor=vendor))
        assert results_are_ranked() is False
        assert result_keys() == NEWEST
