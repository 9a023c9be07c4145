"""The English catalogue of the screens. The msgids are the Chinese texts (Chinese is the default language, so a
missing translation shows Chinese, never a code).

`make translations` extracts the texts of templates and app/, adds the domain's labels (states, roles, vocabularies,
actions: shown through _() from data, so no extractor sees them), updates the catalogue and compiles it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parent / "translations" / "en" / "LC_MESSAGES" / "messages.po"


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
