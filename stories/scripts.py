"""Scripts written without spaces between words, and the grams that index their short runs.

Pure (no Django): the importer's ``derived_fields`` stores ``search_grams(search_text)`` and
``search_runs(search_text)``, and ``stories.search`` splits a query with the same
``SPACELESS_RUN``, so a query's run and the stored grams and runs are cut alike.
"""

import functools
import re

# Thai, Lao, Myanmar, Khmer, CJK radicals and symbols (々〆〇), kana, bopomofo, CJK ideographs
# (and extensions, compatibility forms), hangul syllables, half-width katakana.
SPACELESS = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3005-\u3007\u3040-\u30ff\u3100-\u312f"
    "\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
SPACELESS_RUN = re.compile(f"[{SPACELESS}]+")
GRAM = 2  # the longest run the grams find; longer runs have trigrams (migration 0007)


@functools.lru_cache(maxsize=8)  # the importer asks for the grams and the runs of the same text
def spaceless_runs(text):
    """The runs of spaceless scripts in ``text``, in order, as a tuple."""
    if not text or text.isascii():  # no need to read it (CPython knows a string is ASCII)
        return ()
    return tuple(SPACELESS_RUN.findall(text))


def search_grams(text):
    """Every distinct character and 2-character pair of the spaceless runs of ``text``, space-separated.

    None when the text holds no such run. A run of 1 or 2 characters is in a text exactly when it
    is one of these grams: a pair never spans two runs, and every character of a run is spaceless.
    """
    grams = {}  # a dict: distinct, first seen first
    for run in spaceless_runs(text):
        for i, char in enumerate(run):
            grams[char] = None
            if i + 1 < len(run):
                grams[run[i : i + GRAM]] = None
    return " ".join(grams) or None


def search_runs(text):
    """The distinct spaceless runs of ``text`` longer than ``GRAM`` characters, space-separated: what the
    trigram index reads (migration 0013). None when the text holds no such run.

    A query's run of 3 characters or more is in a text exactly when it is in one of these: it
    holds no character outside the spaceless scripts, so it never spans two runs, and a run
    shorter than it cannot hold it. Indexing these instead of the whole search_text spares the
    trigram index every Latin headline and excerpt (most of the text, and a third of an import's time).
    """
    runs = dict.fromkeys(run for run in spaceless_runs(text) if len(run) > GRAM)
    return " ".join(runs) or None
