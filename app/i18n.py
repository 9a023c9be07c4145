"""The English catalogue of the screens. The msgids are the Chinese texts (Chinese is the default language, so a
missing translation shows Chinese, never a code). The domain's messages (refusals, field problems: marked N_ in
workflows/, see workflows/texts.py) are msgids too, translated here when they are shown (`localise`).

`make translations` extracts the texts of templates and app/, adds the domain's labels (states, roles, vocabularies,
actions: shown through _() from data, so no extractor sees them), updates the catalogue and compiles it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po
from flask_babel import gettext

from workflows import texts
from workflows.texts import Joined, Text, Verbatim

CATALOGUE = Path(__file__).resolve().parent / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def localise(text: str) -> str:
    """A message of the domain in the reader's language; any other text (a name, what someone typed) as it is."""
    if isinstance(text, Joined):
        return gettext(text.separator).join(_parameter(part) for part in text.parts)
    if isinstance(text, Text):
        params = {name: _parameter(value) for name, value in text.params.items()}
        return gettext(text.template, **params) if params else gettext(text.template)
    return text


def _parameter(value):
    """A Text within a message is translated; so is a plain label of the domain (a state, an action), which is a
    msgid of the catalogue; names and numbers are not in it and stay as they are."""
    if isinstance(value, Text):
        return localise(value)
    return gettext(value) if isinstance(value, str) and value and not isinstance(value, Verbatim) else value


# Wherever a template prints a domain message, it prints it in the reader's language (Text.__html__).
texts.translator = localise


def domain_labels() -> set[str]:
    from workflows import archive_states, states, vocab
    from workflows.reads import reviews, trail
    from workflows.rules import recognition

    labels = set(states.STATE_LABELS.values()) | set(states.ROLE_LABELS.values()) | set(vocab.LABELS.values())
    labels |= {t.label for t in states.TRANSITIONS} | {task.label for task in states.TASKS}
    labels |= set(states.ACTION_LABELS.values()) | set(trail.FIELD_LABELS.values())
    # The household archive's life cycle: its statuses, its moves and the titles of the diagrams.
    labels |= set(archive_states.STATUS_LABELS.values()) | {m.label for m in archive_states.MOVES}
    labels |= {states.CASE_FLOW.title, archive_states.ARCHIVE_FLOW.title}
    # When some households need more papers (the case form says so).
    labels |= {when for _kinds, _applies, when in recognition.CONDITIONAL_DOCUMENTS}
    labels |= set(reviews.COUNTED_FROM.values())
    return labels


def add_labels(pot: Path) -> None:
    with pot.open("rb") as f:
        catalog = read_po(f)
    for label in sorted(domain_labels()):
        if label not in catalog:
            catalog.add(label, locations=[("workflows", 0)])
    with pot.open("wb") as f:
        write_po(f, catalog, sort_output=True)


if __name__ == "__main__":
    add_labels(Path(sys.argv[1]))
