"""The English catalogue is whole and current: every text of the screens has its translation, the domain's messages
(marked N_ in workflows/) included, and the compiled catalogue the application reads is the one in the source (run
`make translations` after changing a text)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.i18n import CATALOGUE, domain_labels

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("app/**.py", "python"), ("workflows/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


def catalogue():
    with CATALOGUE.open("rb") as f:
        return read_po(f)


def texts_of_the_screens() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found | domain_labels()


def test_every_text_of_the_screens_is_in_the_catalogue():
    known = {m.id for m in catalogue() if m.id}
    missing = sorted(texts_of_the_screens() - known)
    assert not missing, f"run `make translations` and translate: {missing[:20]}"


def test_every_text_has_its_english():
    untranslated = sorted(m.id for m in catalogue() if m.id and not m.string)
    assert not untranslated, untranslated[:20]


def test_the_compiled_catalogue_is_the_current_one():
    with CATALOGUE.with_suffix(".mo").open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    source = {m.id: m.string for m in catalogue() if m.id and m.string}
    assert compiled == source


CJK = re.compile(r"[\u4e00-\u9fff]")
REFUSALS = {"Reason", "Refused", "Forbidden", "NotFound", "Invalid", "Conflict", "DomainError", "TooLarge",
            "UnsupportedType", "_over", "_Bad", "AmountError"}


def _unmarked(node: ast.AST) -> list[ast.AST]:
    """The Chinese literals within `node` that no N_(...) holds (a message nobody can translate)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "N_":
        return []
    if isinstance(node, ast.Constant | ast.JoinedStr) and CJK.search(ast.unparse(node)):
        return [node]
    return [found for child in ast.iter_child_nodes(node) for found in _unmarked(child)]


def test_every_refusal_of_the_domain_is_marked_for_translation():
    """A message given to a domain error, or set as a field's problem, is written N_("...%(x)s", x=...), so that
    the extraction above finds it: a plain or f-string literal there would reach English screens in Chinese."""
    found = []
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in REFUSALS:
                places = list(node.args[1:] if getattr(node.func, "id", None) == "Reason" else node.args)
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and getattr(t.value, "id", "")
                                                      == "problems" for t in node.targets):
                places = [node.value]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}:{literal.lineno}" for place in places for literal in _unmarked(place)]
    assert not found, found
