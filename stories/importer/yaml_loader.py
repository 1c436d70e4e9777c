"""The strict YAML loader for seed documents' front matter (no database, no file names).

``read_front_matter(raw)`` returns the fields of a document's front matter as a
dict, or raises ``FrontMatterError`` with the problem (``documents`` adds the
file's name). The loader is libyaml's safe loader made stricter, because seed
files come from outside: YAML 1.2 booleans and integers, no exotic tags, and no
anchors, aliases, merge keys, duplicate keys or deep nesting, which are refused
before they can cost memory or crash the process.
"""

import re

import yaml

MAX_DEPTH = 20  # real documents nest 4 deep

if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - depends on the build
    import warnings

    warnings.warn(
        "PyYAML was built without libyaml: importing seed documents will be about ten times slower.",
        stacklevel=1,
    )
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = yaml.CSafeLoader


class FrontMatterError(Exception):
    """The front matter cannot be read as a mapping of fields; ``problem`` says why, in one line."""

    def __init__(self, problem):
        self.problem = problem
        super().__init__(problem)


def read_front_matter(raw):
    """The fields (a dict) of the front matter of a document's bytes. Raises FrontMatterError."""
    return load_front_matter(split_front_matter(raw))


class LooseScalar(str):
    """A plain scalar that YAML 1.1 would coerce (``no``, ``017``, ``0x1f``): kept as its text."""


_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


class SeedLoader(_BaseLoader):
    """libyaml's safe loader, stricter: YAML 1.2 booleans and integers, no
    binary/set/omap/pairs tags, timestamps left as text (validated per field);
    aliases, merge keys, duplicate keys and deep nesting refused (build_data)."""

    yaml_constructors = {
        tag: constructor
        for tag, constructor in _BaseLoader.yaml_constructors.items()
        if tag
        not in {
            "tag:yaml.org,2002:binary",
            "tag:yaml.org,2002:set",
            "tag:yaml.org,2002:omap",
            "tag:yaml.org,2002:pairs",
        }
    }
    yaml_multi_constructors = {}

    def construct_strict_bool(self, node):
        value = node.value
        return _BOOLS[value] if value in _BOOLS else LooseScalar(value)

    def construct_strict_int(self, node):
        value = node.value
        return int(value) if _INT_RE.fullmatch(value) else LooseScalar(value)

    def construct_timestamp_text(self, node):
        return str(node.value)

    def construct_plain_text(self, node):
        return str(node.value)

    # libyaml's composer calls back into Python to resolve the tag of every node
    # (hundreds per document). The same answer as PyYAML's Resolver.resolve, for
    # a loader without path resolvers, in fewer steps.
    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR_TAG
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG

    def descend_resolver(self, current_node, current_index):
        pass  # no path resolvers

    def ascend_resolver(self):
        pass

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        return build_data(self, node)


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _refuse(problem, node):
    raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


def build_data(loader, root):
    """The document's Python data from its composed nodes, refusing aliases,
    merge keys, duplicate keys and deep nesting on the way.

    libyaml's composer returns an alias as the very node it names, so a node met
    twice is an alias: refused even if the text scan before parsing missed it,
    and no alias bomb is ever expanded. Building the common nodes (mappings,
    sequences, strings, integers) here directly is also about twice as fast as
    PyYAML's generic constructor; other scalars go through the loader's
    constructors (SeedLoader's strict ones), unknown tags are refused there.
    """
    seen = {id(root)}
    scalar = loader.construct_object

    def build(node, depth):
        cls = node.__class__
        if cls is yaml.ScalarNode:
            if node.tag == _STR_TAG:
                return node.value
            return scalar(node)
        if depth > MAX_DEPTH:
            _refuse(f"nested more than {MAX_DEPTH} levels deep", node)
        if cls is yaml.MappingNode:
            if node.tag != _MAP_TAG:
                scalar(node)  # refuses !!set, !!omap, ... with PyYAML's own message
            data = {}
            for key_node, value_node in node.value:
                for child in (key_node, value_node):
                    if id(child) in seen:
                        _refuse("YAML anchors and aliases are not allowed", child)
                    seen.add(id(child))
                if key_node.tag == _MERGE_TAG or (key_node.__class__ is yaml.ScalarNode and key_node.value == "<<"):
                    _refuse("merge keys (<<) are not allowed", key_node)
                key = build(key_node, depth + 1)
                try:
                    if key in data:
                        _refuse(f"duplicate key {key_node.value!r}", key_node)
                except TypeError:
                    _refuse("found unhashable key", key_node)
                data[key] = build(value_node, depth + 1)
            return data
        if node.tag != _SEQ_TAG:
            scalar(node)
        items = []
        for child in node.value:
            if id(child) in seen:
                _refuse("YAML anchors and aliases are not allowed", child)
            seen.add(id(child))
            items.append(build(child, depth + 1))
        return items

    return build(root, 1)


SeedLoader.yaml_constructors["tag:yaml.org,2002:bool"] = SeedLoader.construct_strict_bool
SeedLoader.yaml_constructors["tag:yaml.org,2002:int"] = SeedLoader.construct_strict_int
SeedLoader.yaml_constructors["tag:yaml.org,2002:timestamp"] = SeedLoader.construct_timestamp_text
# YAML 1.1 resolves a plain ``=`` to a "value" tag that no safe constructor builds.
SeedLoader.yaml_constructors["tag:yaml.org,2002:value"] = SeedLoader.construct_plain_text


# The event scan (about a fifth of the parse time) is skipped for documents that
# can hold neither a node property nor deep nesting, as real documents can't.
# An anchor &x or alias *x may only start after whitespace, a flow indicator, a
# line start or the ':' of a quoted key ({"k":*x}); the node check after
# composing refuses aliases again, in case. Without flow collections ([ {),
# compact nesting (- - x) and lines indented 10 or more, block nesting stays
# under MAX_DEPTH: each level costs a column. Real documents indent 8 at most.
# These checks use str.find (C speed): a regex pass over a 12 KB document costs
# as much as a tenth of its parse.
_PROPERTY_START = frozenset(" \t\r\n[{,:")
_PROPERTY_STOP = frozenset(" \t\r\n,[]{}")
# An indicator, whitespace, an indicator: one of these appears in any compact nesting.
_COMPACT_MARKS = ("- -", "- ?", "? -", "? ?", "-  ", "?  ", "-\t", "?\t", "- \t", "? \t")
_FENCE_RE = re.compile(r"^---\r?$", re.MULTILINE)


def _may_hold_property(text):
    for mark in "&*":
        index = text.find(mark)
        while index != -1:
            before = text[index - 1] if index else "\n"
            after = text[index + 1 : index + 2]
            if before in _PROPERTY_START and after and after not in _PROPERTY_STOP:
                return True
            index = text.find(mark, index + 1)
    return False


def _needs_event_scan(text):
    return (
        "[" in text
        or "{" in text
        or "\t" in text
        or "\n          " in text
        or any(mark in text for mark in _COMPACT_MARKS)
        or _may_hold_property(text)
    )


def split_front_matter(raw):
    """The front matter's text: between a first line ``---`` and the next line that is exactly ``---``."""
    if not raw.strip():
        raise FrontMatterError("file is empty")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FrontMatterError("not valid UTF-8: the file is UTF-16")
    if b"\x00" in raw:
        raise FrontMatterError("file contains NUL bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FrontMatterError(f"not valid UTF-8 (byte {exc.start})") from None
    first = _FENCE_RE.match(text)
    if not first:
        raise FrontMatterError("no front matter: the first line must be ---")
    # The closing line is exactly ---: found with str.find when every line ends
    # in LF, else by the line-anchored pattern (CRLF, or --- at the very end).
    start = first.end()
    end = text.find("\n---\n", start - 1) if "\r" not in text else -1
    if end != -1:
        return text[start : end + 1]
    match = _FENCE_RE.search(text, start)
    if not match:
        raise FrontMatterError("front matter is not closed: no second --- line")
    return text[start : match.start()]


def load_front_matter(text):
    """The front matter's text loaded by SeedLoader: a dict, or FrontMatterError."""
    if _needs_event_scan(text):
        _scan_events(text)
    loader = _new_loader(SeedLoader, text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise FrontMatterError(f"invalid YAML: {_yaml_problem(exc)}") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"invalid YAML: {_yaml_other_problem(exc)}") from None
    except (ValueError, TypeError, RecursionError) as exc:  # int("9" * 5000), for one
        raise FrontMatterError(f"invalid YAML value: {str(exc).split(';')[0]}") from None
    finally:
        loader.dispose()
    if data is None:
        raise FrontMatterError("front matter is empty")
    if not isinstance(data, dict):
        raise FrontMatterError(f"front matter must be a mapping of fields, not {kind(data)}")
    return data


def _scan_events(text):
    """Refuse anchors, aliases and deep nesting before any node is built.

    libyaml's composer recurses in C (a deep enough document crashes the
    process) and an alias bomb expands when the data is walked, so both are
    refused from the event stream, which costs no recursion.
    """
    loader = _new_loader(_BaseLoader, text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise FrontMatterError(f"YAML anchors and aliases are not allowed (line {_line(event)})")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FrontMatterError(f"nested more than {MAX_DEPTH} levels deep (line {_line(event)})")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        raise FrontMatterError(f"invalid YAML: {_yaml_problem(exc)}") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"invalid YAML: {_yaml_other_problem(exc)}") from None
    finally:
        loader.dispose()


def _new_loader(loader_class, text):
    # PyYAML's pure-Python reader checks the characters when it is built (libyaml's
    # only when it reads): either way one line naming the file.
    try:
        return loader_class(text)
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"invalid YAML: {_yaml_other_problem(exc)}") from None


def _line(event):
    mark = getattr(event, "start_mark", None)
    # the front matter text starts on the opening --- line (its newline), so +1
    return mark.line + 1 if mark is not None else "?"


def _yaml_problem(exc):
    mark = exc.problem_mark or exc.context_mark
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{exc.problem or exc.context or 'cannot parse'}{where}"


def _yaml_other_problem(exc):
    """One line (a ReaderError's text spans two)."""
    if isinstance(exc, yaml.reader.ReaderError):
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return f"{exc.reason} (found U+{character:04X})"
    return " ".join(str(exc).split())


def kind(value):
    """How a message names a loaded value: ``a list``, ``a number``, ``'no'`` (a loose scalar, shown as written)."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, LooseScalar):
        return f"{str(value)!r}"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
