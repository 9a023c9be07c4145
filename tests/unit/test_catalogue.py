"""The English catalogue is whole and current: every text of the screens has its translation, and the compiled
catalogue the application reads is the one in the source (run `make translations` after changing a text)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.i18n import CATALOGUE, domain_labels

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


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
