"""What the page tests read a page with: its elements and attributes, its visible text, its query count.

Assertions go through these rather than through the page's markup, so that how a template lays
its HTML out (spaces, line breaks, attribute order, quoting) never decides whether a test passes.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stories.directories import forget_process_copies
from tests.factories import BASE_TIME, make_story

VOID_ELEMENTS = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
)
HIDDEN_CONTENT = frozenset({"script", "style", "template"})  # their contents are not text a reader sees
SELF_CLOSING_SIBLINGS = frozenset({"li", "option", "p", "dt", "dd", "tr", "td", "th"})  # an open one ends here
TOKEN_LIST_ATTRIBUTES = frozenset({"class", "rel"})  # class_="chip" matches class="chip open"


class Element:
    """One parsed element: ``tag``, ``attrs`` (a dict; a bare attribute such as ``open`` is ""), ``children``."""

    def __init__(self, tag, attrs=(), parent=None):
        self.tag = tag
        self.attrs = {name: "" if value is None else value for name, value in attrs}
        self.parent = parent
        self.children = []  # Elements and strings (the text between them), in document order

    def __repr__(self):
        attributes = "".join(f' {name}="{value}"' for name, value in self.attrs.items())
        return f"<{self.tag}{attributes}>{self.text[:60]}"

    def get(self, name, default=None):
        return self.attrs.get(name, default)

    def tokens(self, name):
        """A space-separated attribute (class, rel) as a set of its words."""
        return set(self.attrs.get(name, "").split())

    def iter(self):
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def _strings(self):
        for child in self.children:
            if isinstance(child, Element):
                if child.tag not in HIDDEN_CONTENT:
                    yield from child._strings()
            else:
                yield child

    @property
    def text(self):
        """The visible text inside: entities decoded, every tag a word break, spaces collapsed."""
        return " ".join(" ".join(self._strings()).split())

    @property
    def source(self):
        """The raw text directly inside, as a script's contents are (not collapsed)."""
        return "".join(child for child in self.children if isinstance(child, str))

    def matches(self, tag=None, text=None, **attrs):
        if tag is not None and self.tag != tag:
            return False
        for key, wanted in attrs.items():
            name = key.rstrip("_").replace("_", "-")
            value = self.attrs.get(name)
            if value is None:
                return False
            if wanted is True:
                continue
            if isinstance(wanted, re.Pattern):
                if not wanted.search(value):
                    return False
            elif name in TOKEN_LIST_ATTRIBUTES:
                if not set(wanted.split()) <= set(value.split()):
                    return False
            elif value != wanted:
                return False
        if text is None:
            return True
        return bool(text.search(self.text)) if isinstance(text, re.Pattern) else self.text == text

    def find_all(self, tag=None, text=None, **attrs):
        """Every element inside (this one included) with this tag, visible text and attributes.

        An attribute given as True only has to be there; a compiled pattern is searched for in the
        value (and in the text); ``class_``/``rel`` match any of their words; ``aria_current`` is
        ``aria-current``.
        """
        return [element for element in self.iter() if element.matches(tag, text, **attrs)]

    def find(self, tag=None, text=None, **attrs):
        """The first element that find_all finds; the test fails if there is none."""
        found = self.find_all(tag, text, **attrs)
        assert found, f"no <{tag or '*'}> with text={text!r} {attrs} in the page"
        return found[0]

    def closest(self, tag):
        """The nearest enclosing element (or this one) with this tag."""
        element = self
        while element is not None and element.tag != tag:
            element = element.parent
        assert element is not None, f"{self!r} is not inside a <{tag}>"
        return element

    def is_before(self, other):
        """Whether this element starts before ``other`` in the document."""
        root = self
        while root.parent is not None:
            root = root.parent
        order = list(root.iter())
        return order.index(self) < order.index(other)


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("#document")

    def handle_starttag(self, tag, attrs):
        if tag in SELF_CLOSING_SIBLINGS and self.current.tag == tag:
            self.current = self.current.parent
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in VOID_ELEMENTS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, attrs, self.current))

    def handle_endtag(self, tag):
        element = self.current
        while element.parent is not None and element.tag != tag:
            element = element.parent
        if element.parent is not None:  # an end tag that closes nothing open is ignored, as a browser does
            self.current = element.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(markup):
    """An HTML page or fragment as an Element tree (its root is "#document")."""
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


def html(response):
    """The page's markup, for what must not appear in it anywhere (data the page must not leak)."""
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def page(response):
    """The page, parsed: find its elements and read their attributes and text."""
    return parse(html(response))


def text(response):
    """The page's visible text, tags removed, entities decoded, spaces collapsed."""
    return page(response).text


def positions(haystack, *needles):
    found = [haystack.find(needle) for needle in needles]
    assert all(index >= 0 for index in found), list(zip(needles, found, strict=True))
    return found


def in_order(haystack, *needles):
    found = positions(haystack, *needles)
    return found == sorted(found)


def card(document, title):
    """The story card (its <article>) whose headline link reads ``title``."""
    return document.find("a", text=title).closest("article")


def next_link(document, rel="next"):
    """The href of the page's link to the next (or, with rel="prev", previous) page, or None."""
    found = document.find_all("a", rel=rel)
    assert len(found) <= 1, found
    return found[0].get("href") if found else None


def chips(document):
    """{label: (value shown, href of its Remove link)} of the active filter chips.

    A chip reads "Topic: AI Remove": its label, its value in bold, and a link that removes it.
    """
    found = {}
    for remove in document.find_all("a", text=re.compile(r"^Remove\b")):
        chip = remove.closest("li")
        label = chip.text.partition(":")[0]
        assert label not in found, f"two chips for {label}"
        found[label] = (chip.find("strong").text, remove.get("href"))
    return found


def count_queries(client, url, **kw):
    cache.clear()  # a fresh cache: the page, its cards and the filter directories all rebuilt
    forget_process_copies()  # and no copy of the directories left in this process
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kw)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def make_many(n, **kw):
    return [make_story(f"Story number {i:03d}", published_at=BASE_TIME - timedelta(minutes=i), **kw) for i in range(n)]
