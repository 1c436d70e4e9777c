"""Hostile documents: the corpus in tests/data/hostile/ (one problem per file, named by its
file), a few made at run time (too big to commit), and property-based mutations of the seed.

For each hostile file: one error line naming the file and the problem, nothing of the
file stored, the other files imported, exit status 1, never a traceback.
"""

import contextlib
import copy
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
import yaml
from django.db import DatabaseError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stories.importer import documents, fields, import_paths, yaml_loader
from stories.importer import sql as writer_sql
from stories.importer.documents import DocumentError, StoryData, read_document
from stories.importer.writer import BatchWriter
from stories.models import Article, ImportedDocument, Provider, Story, Topic
from tests.factories import run_import as run

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
VALID = Path(__file__).resolve().parent / "data" / "valid"
SEED = ROOT / "data" / "seeds" / "000_8c0de6de77f2d51c.txt"
SEED_BYTES = SEED.read_bytes()
GOOD = [ROOT / "data" / "seeds" / "sample" / "2021-03-11-ai-moves-to-the-edge.md", VALID / "no_related.md"]

# What each hostile file's one error line must say (besides its path).
EXPECTED = {
    "category_is_a_list": "category: must be text, not a list",
    "complex_mapping_key": "invalid YAML: found unhashable key",
    "control_character_escape_in_excerpt": "excerpt: must not contain control characters (found U+0007)",
    "date_as_list": "publishedDateTime: must be a date and time, not a list",
    "date_as_number": "publishedDateTime: must be a date and time, not a number",
    "date_before_year_1_after_utc": "publishedDateTime: is out of range ('0001-01-01T00:30:00+01:00' falls outside",
    "date_beyond_9999_after_utc": "publishedDateTime: is out of range ('9999-12-31T23:00:00-05:00' falls outside",
    "date_impossible_feb_30": "publishedDateTime: is not a valid date and time ('2020-02-30': day is out of range",
    "date_impossible_hour_25": "publishedDateTime: is not a valid date and time ('2020-06-11T25:01:00Z': hour must",
    "date_not_a_date": "publishedDateTime: is not a valid date and time ('yesterday'",
    "date_offset_over_24_hours": "publishedDateTime: is not a valid date and time ('2020-06-11T02:01:00+25:00': offset",
    "date_year_10000": "publishedDateTime: is not a valid date and time ('10000-01-01T00:00:00Z': the year is after",
    "date_year_zero": "publishedDateTime: is not a valid date and time ('0000-01-01T00:00:00Z': year 0 is out",
    "deep_nesting_block_mappings": "nested more than 20 levels deep",
    "deep_nesting_block_sequences": "nested more than 20 levels deep",
    "deep_nesting_flow": "nested more than 20 levels deep",
    "document_is_a_list": "front matter must be a mapping of fields, not a list",
    "document_is_a_scalar": "front matter must be a mapping of fields, not text",
    "duplicate_key_in_related_item": "invalid YAML: duplicate key 'webUrl'",
    "duplicate_key_quoted_and_plain": "invalid YAML: duplicate key 'webUrl'",
    "duplicate_key_title": "invalid YAML: duplicate key 'title'",
    "empty_file": "file is empty",
    "front_matter_closed_by_indented_dashes": "front matter is not closed: no second --- line",
    "front_matter_empty": "front matter is empty",
    "front_matter_missing": "no front matter: the first line must be ---",
    "front_matter_not_on_first_line": "no front matter: the first line must be ---",
    "front_matter_only_comments": "front matter is empty",
    "front_matter_unclosed": "front matter is not closed: no second --- line",
    "heat_below_minus_one": "heat: must be -1 or more, not -2",
    "invalid_utf8_latin1_byte": "not valid UTF-8 (byte",
    "nul_byte_in_title": "file contains NUL bytes",
    "nul_escape_in_title": "title: must not contain control characters (found U+0000)",
    "provider_domain_invalid": "provider.domain: is not a valid domain name",
    "provider_is_text": "provider: must be a mapping with a name, not text",
    "provider_missing": "provider: is missing",
    "provider_name_missing": "provider.name: is missing",
    "publishedDateTime_missing": "publishedDateTime: is missing",
    "published_no": "published: must be true or false, not 'no'",
    "published_quoted_false": "published: must be true or false, not text",
    "published_yes": "published: must be true or false, not 'yes'",
    "published_zero": "published: must be true or false, not a number",
    "quality_boolean": "quality: must be a whole number, not a boolean",
    "quality_float": "quality: must be a whole number, not a decimal number",
    "quality_hex_0x1f": "quality: must be a whole number, not '0x1f'",
    "quality_huge_integer": "invalid YAML value: Exceeds the limit (4300 digits) for integer string conversion",
    "quality_negative": "quality: must be 0 or more, not -1",
    "quality_octal_017": "quality: must be a whole number, not '017'",
    "quality_quoted_string": "quality: must be a whole number, not text",
    "quality_sexagesimal_1_30": "quality: must be a whole number, not '1:30'",
    "quality_too_large": "quality: is too large (2147483648)",
    "quality_underscored_1_000": "quality: must be a whole number, not '1_000'",
    "raw_control_character": "invalid YAML: control characters are not allowed (found U+001B)",
    "related_is_a_mapping": "related: must be a list, not a mapping",
    "related_is_text": "related: must be a list, not text",
    "secured_is_a_number": "secured: must be text, not a number",
    "tag_binary": "invalid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:binary'",
    "tag_local_unknown": "invalid YAML: could not determine a constructor for the tag '!evil'",
    "tag_omap": "invalid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:omap'",
    "tag_python_module": "the tag 'tag:yaml.org,2002:python/module:os'",
    "tag_python_name": "the tag 'tag:yaml.org,2002:python/name:os.system'",
    "tag_python_object_apply": "the tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    "tag_python_tuple": "the tag 'tag:yaml.org,2002:python/tuple'",
    "tag_set": "invalid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:set'",
    "title_empty": "title: is empty",
    "title_is_a_list": "title: must be text, not a list",
    "title_missing": "title: is missing",
    "title_too_long": "title: is 600 characters long, over the 500 limit",
    "topics_is_a_mapping": "topics: must be a list, not a mapping",
    "topics_item_is_a_list": "topics[1]: must be a topic name, not a list",
    "topics_item_without_letters": "topics[0]: '!!!' has no letters or digits",
    "url_amp_javascript": "ampWebUrl: must be an http or https URL, not javascript: one",
    "url_bad_host": "webUrl: has an invalid host name 'exa_mple..com'",
    "url_bidi_override": "webUrl: must not contain spaces, line breaks or control characters",
    "url_data": "webUrl: must be an http or https URL, not data: one",
    "url_file": "webUrl: must be an http or https URL, not file: one",
    "url_ftp": "webUrl: must be an http or https URL, not ftp: one",
    "url_javascript": "webUrl: must be an http or https URL, not javascript: one",
    "url_javascript_entity_encoded": "webUrl: must be an http or https URL, not javascript: one",
    "url_javascript_mixed_case_with_spaces": "webUrl: must be an http or https URL, not javascript: one",
    "url_line_separator_u2028": "webUrl: must not contain spaces, line breaks or control characters",
    "url_newline": "webUrl: must not contain spaces, line breaks or control characters",
    "url_newline_entity": "webUrl: must not contain spaces, line breaks or control characters",
    "url_no_host": "webUrl: must name a host (and no user name or password)",
    "url_not_text": "webUrl: must be a URL, not a number",
    "url_port_out_of_range": "webUrl: is not a valid URL (Port out of range 0-65535)",
    "url_protocol_relative": "webUrl: must start with http:// or https:// (protocol-relative URLs are refused)",
    "url_relative_path": "webUrl: must be an http or https URL, not a relative one",
    "url_space": "webUrl: must not contain spaces, line breaks or control characters",
    "url_too_long": "webUrl: is over the 2000-character limit",
    "url_user_at_host_spoof": "webUrl: must name a host (and no user name or password)",
    "url_user_password": "webUrl: must name a host (and no user name or password)",
    "utf16_encoded": "not valid UTF-8: the file is UTF-16",
    "webUrl_missing": "webUrl: is missing",
    "whitespace_only": "file is empty",
    "yaml_alias_after_quoted_key": "YAML anchors and aliases are not allowed",
    "yaml_alias_bomb_billion_laughs": "YAML anchors and aliases are not allowed",
    "yaml_anchor_and_alias": "YAML anchors and aliases are not allowed",
    "yaml_anchor_unused": "YAML anchors and aliases are not allowed",
    "yaml_bad_indentation": "invalid YAML: mapping values are not allowed in this context",
    "yaml_directive": "invalid YAML: did not find expected <document start>",
    "yaml_invalid_syntax": "invalid YAML: found unexpected end of stream",
    "yaml_merge_key": "invalid YAML: merge keys (<<) are not allowed",
    "yaml_merge_tag": "invalid YAML: merge keys (<<) are not allowed",
    "yaml_recursive_alias": "YAML anchors and aliases are not allowed",
    "yaml_second_document": "invalid YAML: but found another document",
    "yaml_tab_indentation": "invalid YAML: found character that cannot start any token",
}  # fmt: skip
HOSTILE_FILES = sorted(HOSTILE.glob("*.md"))


def nothing_hostile_stored():
    """The corpus's documents use these outlets, this topic and these hosts only."""
    assert not Provider.objects.filter(domain__in=["hostile.example.com", "coverage.example.org"]).exists()
    assert not Article.objects.filter(web_url__contains="hostile.example.com").exists()
    assert not Article.objects.filter(web_url__contains="coverage.example.org").exists()
    assert not Topic.objects.filter(slug="hostile-topic").exists()
    assert not Story.objects.filter(source_file__contains="/hostile").exists()
    return True


def good_imported():
    assert Story.objects.count() == len(GOOD)
    assert {read_document(path).lead.web_url for path in GOOD} <= set(
        Story.objects.values_list("lead__web_url", flat=True)
    )
    return True


def test_every_hostile_file_has_its_expected_problem():
    assert sorted(path.stem for path in HOSTILE_FILES) == sorted(EXPECTED)


def test_every_hostile_file_but_its_problem_is_a_valid_document():
    """So that each error is really about the named problem, not a missing field."""
    template = (HOSTILE / "quality_negative.md").read_text().replace("quality: -1\n", "")
    assert read_document(Path("t.md"), template.encode()).lead.title == "Hostile document: quality_negative"


@pytest.mark.parametrize("path", HOSTILE_FILES, ids=[p.stem for p in HOSTILE_FILES])
def test_a_hostile_document_is_refused_in_one_line_naming_it(path):
    with pytest.raises(DocumentError) as info:
        read_document(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert EXPECTED[path.stem] in message
    assert "\n" not in message and "\r" not in message
    assert len(message) < 400


@pytest.mark.django_db
@pytest.mark.parametrize("path", HOSTILE_FILES, ids=[p.stem for p in HOSTILE_FILES])
def test_a_hostile_file_is_skipped_and_the_other_files_import(tmp_path, path):
    for good in GOOD:
        shutil.copy(good, tmp_path / good.name)
    hostile = Path(shutil.copy(path, tmp_path / path.name))
    status, out, err = run(tmp_path)
    assert status == 1
    assert out.strip() == "created 2, updated 0, unchanged 0, failed 1"
    assert "Traceback" not in err
    [line] = err.splitlines()
    assert line.startswith(f"{hostile}: ")
    assert EXPECTED[path.stem] in line
    assert nothing_hostile_stored()
    assert good_imported()


# --- made at run time -------------------------------------------------------------------------


def hostile_template(name, extra=""):
    text = (HOSTILE / "quality_negative.md").read_text().replace("quality: -1\n", extra)
    return text.replace("quality_negative", name)


def generated(folder):
    """The hostile files too big to commit: {path: expected problem}."""
    files = {}
    big = folder / "file_over_one_megabyte.md"
    padding = "x" * (documents.MAX_FILE_BYTES + 10)
    big.write_text(hostile_template(big.stem, f'excerpt: "{padding}"\n'))
    files[big] = f"file is {big.stat().st_size:,} bytes, over the 1,048,576-byte limit"
    deep = folder / "deep_nesting_100000_levels.md"
    deep.write_text(hostile_template(deep.stem, "extra: " + "[" * 100_000 + "]" * 100_000 + "\n"))
    files[deep] = "nested more than 20 levels deep"
    many = folder / "related_10000_items.md"
    item = '  - {title: t%d, webUrl: "http://c.co/%d", publishedDateTime: 2020-06-10, provider: {name: C}}\n'
    text = hostile_template(many.stem).replace(
        "related:\n", "related:\n" + "".join(item % (n, n) for n in range(10_000))
    )
    many.write_text(text)
    files[many] = "related: has 10,001 items, over the 1,000 limit"
    bomb = folder / "yaml_alias_bomb_ten_levels.md"
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 10)]
    bomb.write_text(hostile_template(bomb.stem, "".join(lines) + "related_too: *l9\n"))
    files[bomb] = "YAML anchors and aliases are not allowed"
    title = folder / "title_of_a_megabyte_less_one.md"
    title.write_text(hostile_template(title.stem).replace('title: "', 'title: "' + "t" * 1_000_000, 1))
    files[title] = "title: is 1,000,0"
    return files


def test_generated_sizes_are_what_their_names_say(tmp_path):
    files = generated(tmp_path)
    sizes = {path.stem: path.stat().st_size for path in files}
    assert sizes["file_over_one_megabyte"] > documents.MAX_FILE_BYTES
    assert 200_000 < sizes["deep_nesting_100000_levels"] < documents.MAX_FILE_BYTES
    assert sizes["related_10000_items"] < documents.MAX_FILE_BYTES
    assert sizes["title_of_a_megabyte_less_one"] < documents.MAX_FILE_BYTES


def test_a_file_over_one_megabyte_is_refused_by_size_before_parsing(tmp_path, monkeypatch):
    path, expected = next(iter(generated(tmp_path).items()))
    parsed = []
    monkeypatch.setattr(documents, "parse_front_matter", lambda *args: parsed.append(args))
    with pytest.raises(DocumentError, match="over the 1,048,576-byte limit") as info:
        read_document(path)
    assert expected in str(info.value)
    assert parsed == []


def test_an_alias_bomb_is_refused_before_any_data_is_built(tmp_path, monkeypatch):
    path = next(p for p in generated(tmp_path) if p.stem == "yaml_alias_bomb_ten_levels")
    monkeypatch.setattr(yaml_loader.SeedLoader, "get_single_data", lambda self: pytest.fail("composed"))
    with pytest.raises(DocumentError, match="anchors and aliases are not allowed"):
        read_document(path)


def test_generated_hostile_files_in_a_real_process(tmp_path):
    """100,000 levels of [ crash libyaml's recursive composer (a segfault, not an exception):
    the guard must refuse them from the event stream. A separate process shows there is no crash."""
    files = generated(tmp_path)
    script = (
        "import os, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'newsreader.settings')\n"
        "django.setup()\n"
        "from stories.importer.documents import DocumentError, read_document\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        read_document(path)\n"
        "        print('read', path)\n"
        "    except DocumentError as exc:\n"
        "        print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(files)
    for line, (path, expected) in zip(lines, files.items(), strict=True):
        assert line.startswith(f"{path}: ")
        assert expected in line


PURE_PYTHON = """
import os, sys
import yaml
yaml.__with_libyaml__ = False  # as if PyYAML had been built without libyaml
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsreader.settings")
import django
django.setup()
from stories.importer import yaml_loader
from stories.importer.documents import DocumentError, read_document
import stories.importer.documents  # again: still one warning
assert yaml_loader.SeedLoader.__mro__[1] is yaml.SafeLoader
for path in sys.argv[1:]:
    try:
        doc = read_document(path)
        print("read", len(doc.related), path)
    except DocumentError as exc:
        print("refused", exc)
"""


@pytest.mark.slow
def test_without_libyaml_it_warns_once_and_refuses_the_same_files(tmp_path):
    files = [p for p in generated(tmp_path) if p.stem.startswith(("deep", "yaml"))]  # the others only take time
    result = subprocess.run(
        [sys.executable, "-c", PURE_PYTHON, str(SEED), *map(str, HOSTILE_FILES), *map(str, files)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("PyYAML was built without libyaml") == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"read 11 {SEED}"
    for line, path in zip(lines[1:], [*HOSTILE_FILES, *files], strict=True):
        assert line.startswith(f"refused {path}: ")


@pytest.mark.django_db
def test_the_whole_corpus_at_once(tmp_path):
    folder = tmp_path / "hostile"
    shutil.copytree(HOSTILE, folder)
    files = generated(folder)
    del files[next(p for p in files if p.stem == "deep_nesting_100000_levels")]  # shown in its own process
    (folder / "deep_nesting_100000_levels.md").unlink()
    valid = shutil.copytree(VALID, tmp_path / "valid")
    status, out, err = run(folder, valid, GOOD[0])
    assert status == 1
    hostile_count = len(HOSTILE_FILES) + len(files)
    assert out.strip() == f"created 14, updated 0, unchanged 0, failed {hostile_count}"
    errors = [line for line in err.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == hostile_count
    assert sorted(line.split(": ", 1)[0] for line in errors) == sorted(
        [str(folder / p.name) for p in HOSTILE_FILES] + [str(p) for p in files]
    )
    assert "Traceback" not in err
    assert nothing_hostile_stored()
    assert Story.objects.count() == 14


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "related_item_is_lead_url.md",
        "related_same_url_twice.md",
        "excerpt_holds_crlf_and_dashes.md",
        "title_repeated_by_other_outlet.md",
        "bom_and_crlf.md",
    ],
)
def test_what_real_documents_hold_imports_cleanly_with_at_most_a_warning(name):
    status, out, err = run(VALID / name)
    assert status == 0
    assert out.strip() == "created 1, updated 0, unchanged 0, failed 0"
    assert len(err.splitlines()) <= 1
    assert all(line.startswith(f"warning: {VALID / name}: ") for line in err.splitlines())


# --- property-based: random mutations of the seed ----------------------------------------------

TOKENS = [
    b"---\n", b"---", b"\n", b"\r\n", b"\r", b"&a ", b"*a", b"!!python/object/apply:os.system ['true'] ",
    b"!!binary ", b"!!set ", b"\x00", b"\xff", b"\xef\xbb\xbf", b"[", b"]", b"{", b"}", b"- - - ", b": ",
    b"? ", b'"', b"'", b"\t", b"<<: ", b"%YAML 1.1\n", b"\\u2028", b"&#10;", b"&amp;", b"javascript:",
    b"//", b"no", b"017", b"2020-02-30", b"9999-12-31T23:00:00-05:00", b"null", b"~", b"|\n", b">\n", b"#",
    b"\xe2\x80\xa8", b"\xc2\x85", b"\x1b", b"=", b"!", b"@", b"`",
]  # fmt: skip


@st.composite
def byte_mutations(draw):
    raw = bytearray(SEED_BYTES)
    for _ in range(draw(st.integers(1, 5))):
        # mostly text: random bytes would nearly always stop at "not UTF-8" or "NUL"
        kind = draw(st.sampled_from(["delete", "insert", "replace", "token", "token", "binary"]))
        at = draw(st.integers(0, len(raw)))
        if kind == "delete":
            del raw[at : at + draw(st.integers(1, 80))]
        elif kind == "insert":
            raw[at:at] = draw(st.text(min_size=1, max_size=12)).encode()
        elif kind == "replace" and raw:
            raw[min(at, len(raw) - 1)] = draw(st.integers(32, 126))
        elif kind == "binary":
            raw[at:at] = draw(st.binary(min_size=1, max_size=4))
        else:
            raw[at:at] = draw(st.sampled_from(TOKENS))
    return bytes(raw)


@st.composite
def line_mutations(draw):
    lines = SEED_BYTES.split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "insert"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(j, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent":
            lines[i] = b"  " + lines[i]
        elif kind == "dedent":
            lines[i] = lines[i][2:] if lines[i].startswith(b"  ") else lines[i]
        else:
            lines.insert(i, draw(st.sampled_from(TOKENS)))
    return b"\n".join(lines)


def _seed_data():
    loader = yaml_loader.SeedLoader(yaml_loader.split_front_matter(SEED_BYTES))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


SEED_DATA = _seed_data()
VALUES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "no", "017", "2020-02-30", "javascript:x", "//x.com/a", "https://ok.example/x", "\x00"])
    | st.lists(st.text(max_size=5), max_size=3)
    | st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)
)
LEAD_KEYS = sorted(SEED_DATA)
ITEM_KEYS = sorted(SEED_DATA["related"][0])


@st.composite
def yaml_mutations(draw):
    data = copy.deepcopy(SEED_DATA)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["lead", "provider", "related", "related provider", "topics", "image"]))
        if where == "lead":
            target, keys = data, LEAD_KEYS
        elif where == "provider":
            target, keys = data.get("provider"), ["name", "domain"]
        elif where == "related":
            items = data.get("related")
            target = items[draw(st.integers(0, len(items) - 1))] if isinstance(items, list) and items else None
            keys = ITEM_KEYS
        elif where == "related provider":
            items = data.get("related")
            item = items[draw(st.integers(0, len(items) - 1))] if isinstance(items, list) and items else None
            target, keys = (item.get("provider") if isinstance(item, dict) else None), ["name", "domain"]
        elif where == "topics":
            target, keys = data, ["topics"]
        else:
            items = data.get("related")
            item = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
            images = item.get("images")
            target, keys = (images[0] if isinstance(images, list) and images else None), ["url", "width", "height"]
        if not isinstance(target, dict):
            continue
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(VALUES)
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False, width=10_000)
    return f"---\n{text}---\n".encode()


def check_result(raw, name="mutant.md"):
    """read_document returns a sound StoryData or raises a one-line DocumentError; nothing else."""
    try:
        doc = read_document(Path(name), raw)
    except DocumentError as exc:
        message = str(exc)
        assert message.startswith(f"{name}: ")
        assert "\n" not in message
        return None
    assert isinstance(doc, StoryData)
    for article in (doc.lead, *doc.related):
        assert article.web_url.split(":", 1)[0].lower() in {"http", "https"}
        assert article.title and len(article.title) <= fields.MAX_TITLE
        assert article.published_at.utcoffset().total_seconds() == 0
        assert isinstance(article.quality, int) and not isinstance(article.quality, bool) and article.quality >= 0
        assert isinstance(article.heat, int) and article.heat >= -1
        assert article.provider_name and article.provider_domain
        assert "\x00" not in article.title + article.excerpt + article.provider_name
    assert doc.lead.web_url not in {item.web_url for item in doc.related}
    assert len({item.web_url for item in doc.related}) == len(doc.related)
    assert isinstance(doc.published, bool)
    return doc


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(byte_mutations())
def test_random_byte_mutations_of_the_seed_never_raise_anything_else(raw):
    check_result(raw)


@FAST
@given(line_mutations())
def test_random_line_mutations_of_the_seed_never_raise_anything_else(raw):
    check_result(raw)


@FAST
@given(yaml_mutations())
def test_random_field_mutations_of_the_seed_never_raise_anything_else(raw):
    check_result(raw)


def test_a_field_mutation_of_the_lead_is_reported_on_that_field():
    data = dict(SEED_DATA, quality="39")
    raw = f"---\n{yaml.safe_dump(data, sort_keys=False)}---\n".encode()
    with pytest.raises(DocumentError, match=r"mutant\.md: quality: must be a whole number, not text"):
        read_document(Path("mutant.md"), raw)


STAGE_STATEMENTS = {
    "articles": "upsert_articles",
    "stories": "upsert_stories",
    "coverage": "insert_coverage",
    "topics": "insert_story_topics",
    "documents": "insert_documents",
}


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    raw=st.one_of(byte_mutations(), line_mutations(), yaml_mutations()),
    fail_at=st.sampled_from([None, *STAGE_STATEMENTS]),
)
def test_an_import_of_a_mutant_never_raises_and_never_leaves_a_partial_story(raw, fail_at):
    good_urls = {read_document(GOOD[0]).lead.web_url}
    with tempfile.TemporaryDirectory() as folder, transaction.atomic():
        folder = Path(folder)
        shutil.copy(GOOD[0], folder / GOOD[0].name)
        mutant = folder / "mutant.md"
        mutant.write_bytes(raw)
        expected = check_result(raw, str(mutant))

        writing = []
        original_write = BatchWriter._write

        def recording_write(self, docs, *args):
            writing[:] = docs
            return original_write(self, docs, *args)

        errors = []
        with contextlib.ExitStack() as patches:
            patches.enter_context(mock.patch.object(BatchWriter, "_write", recording_write))
            if fail_at:
                statement = STAGE_STATEMENTS[fail_at]
                original_statement = getattr(writer_sql, statement)

                def failing(rows):
                    if any(doc.source_file == str(mutant) for doc in writing):
                        raise DatabaseError("injected failure")
                    return original_statement(rows)

                patches.enter_context(mock.patch.object(writer_sql, statement, side_effect=failing))
            report = import_paths([folder], on_error=errors.append)

        # the good document always imports
        assert set(Story.objects.values_list("lead__web_url", flat=True)) >= good_urls
        written = expected is not None and not fail_at
        assert report.failed == (0 if written else 1)
        assert len(errors) == report.failed
        assert all(line.startswith(f"{mutant}: ") for line in errors)
        mutant_story = Story.objects.filter(source_file=str(mutant)).first()
        if written:
            assert mutant_story is not None
            assert mutant_story.lead.web_url == expected.lead.web_url
            assert coverage_of(mutant_story) == [item.web_url for item in expected.related]
            assert mutant_story.coverage_count == len(expected.related)
            assert set(mutant_story.topics.values_list("slug", flat=True)) == {slug for slug, _ in expected.topics}
            assert mutant_story.documents.filter(content_hash=expected.content_hash).exists()
        else:  # nothing of it: only the good document's rows
            assert mutant_story is None
            assert Story.objects.count() == 1
            assert not ImportedDocument.objects.exclude(story__lead__web_url__in=good_urls).exists()
            good = read_document(GOOD[0])
            assert set(Article.objects.values_list("web_url", flat=True)) == {good.lead.web_url}
            assert set(Provider.objects.values_list("domain", flat=True)) == {good.lead.provider_domain}
        for story in Story.objects.all():
            assert story.coverage_count == story.coverage_items.count()
            assert story.documents.exists()
        transaction.set_rollback(True)


def coverage_of(story):
    return list(story.coverage_items.order_by("position").values_list("article__web_url", flat=True))
