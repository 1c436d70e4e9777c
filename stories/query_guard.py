"""Refuse query strings no public page can use, with a 400 page that says what is wrong.

A scanner sends control characters, broken UTF-8 and huge values in every parameter.
Django turns invalid UTF-8 into U+FFFD quietly, and a control character in a feed's
title makes its XML writer raise (a 500). Every public GET is checked here before a
view runs: each parameter's name and value, percent-decoded from the raw query string,
must be valid UTF-8 without C0 control characters, DEL or the noncharacters U+FFFE and
U+FFFF, and no longer than MAX_VALUE_LENGTH; the whole query no longer than
MAX_QUERY_LENGTH. Repeated parameters pass: Django reads the last one, as the views do.
The admin is left alone (its own forms and filters).

The page is templates/bad_request.html, not 400.html: Django renders 400.html for its own
400s too, a bad Host header among them, and there the site's context processor (which
builds absolute URLs from the host) would raise again and turn the 400 into a 500.
"""

import re
from urllib.parse import unquote_to_bytes

from django.shortcuts import render

MAX_VALUE_LENGTH = 1_000  # characters of one name or value (search words are read up to 200)
MAX_QUERY_LENGTH = 8_000  # characters of the raw query string
FORBIDDEN = re.compile("[\x00-\x1f\x7f\ufffe\uffff]")

# Who the message names: the parameters a reader's form or link sends.
SUBJECTS = {
    "q": "The search words",
    "topic": "The topic",
    "provider": "The outlet",
    "mute": "The muted outlets",
    "exclude_provider": "The muted outlet",
    "category": "The category",
    "type": "The type",
    "since": "The start date",
    "until": "The end date",
    "min_quality": "The minimum quality",
    "sort": "The sort order",
    "order": "The coverage order",
    "after": "The page cursor",
    "before": "The page cursor",
    "p": "The sitemap page",
}
PLURAL = {"q", "mute"}


def _problem_with(text):
    """What is wrong with one decoded name or value, or None."""
    if len(text) > MAX_VALUE_LENGTH:
        return f"too long ({len(text):,} characters; at most {MAX_VALUE_LENGTH:,})", "is", "are"
    found = FORBIDDEN.search(text)
    if found is None:
        return None
    code = f"U+{ord(found.group()):04X}"
    if found.group() in "\ufffe\uffff":
        return f"a character that text may not hold ({code})", "holds", "hold"
    return f"a control character ({code})", "holds", "hold"


def _decode(raw):
    """Percent-decoded text of a raw (latin-1) query string part; None when it is not valid UTF-8."""
    try:
        return unquote_to_bytes(raw.replace("+", " ").encode("latin-1")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def query_problem(query_string):
    """A sentence saying which parameter of ``query_string`` is refused and why, or None."""
    for part in query_string.split("&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition("=")
        name = _decode(raw_name)
        if name is None:
            return "A parameter name is not valid UTF-8 text."
        problem = _problem_with(name)
        if problem:
            return f"A parameter name {problem[1]} {problem[0]}."
        subject = SUBJECTS.get(name) or f"The parameter “{name[:40]}”"
        plural = name in PLURAL
        value = _decode(raw_value)
        if value is None:
            return f"{subject} {'are' if plural else 'is'} not valid UTF-8 text."
        problem = _problem_with(value)
        if problem:
            text, singular_verb, plural_verb = problem
            return f"{subject} {plural_verb if plural else singular_verb} {text}."
    if len(query_string) > MAX_QUERY_LENGTH:
        return f"The address is too long ({len(query_string):,} characters after the ?; at most {MAX_QUERY_LENGTH:,})."
    return None


class QueryGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query_string = request.META.get("QUERY_STRING", "")
        if query_string and request.method in ("GET", "HEAD") and not request.path_info.startswith("/admin/"):
            problem = query_problem(query_string)
            if problem:
                return render(request, "bad_request.html", {"problem": problem}, status=400)
        return self.get_response(request)
