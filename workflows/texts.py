"""The domain's messages (refusals, field problems, reasons) in Chinese, kept translatable without Flask.

A message is written `N_("只有%(who)s可以%(what)s", who=..., what=...)`: a Text, which is the Chinese str everywhere
(the API, the CLI, the audit trail and the tests read it as it always was) and also keeps its template and its
parameters, so that the screens can translate it (app/i18n.py `localise`). `N_` is the extractor's keyword for a
message that is translated later (`make translations` and tests/unit/test_catalogue.py find every one).

A parameter that is a list is joined with 、 (in English with ", "). A parameter that is itself a Text, or a label
of the domain (a state, an action: a msgid of the catalogue), is translated too; any other text (a name, a number)
is shown as it is, and so is a Verbatim (what someone typed, what a file must hold), even when it reads like a label.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any


class Text(str):
    """A message in Chinese that remembers its template and parameters (see the module's docstring)."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Text:
        params = {name: Joined(value, LIST) if isinstance(value, list | tuple) else value
                  for name, value in params.items()}
        text = super().__new__(cls, template % params if params else template)
        text.template, text.params = template, params
        return text

    def __html__(self) -> str:
        """A template that prints a Text shows it in the reader's language (Jinja and markupsafe call this)."""
        return html.escape(translator(self))


class Joined(Text):
    """Texts one after another, translated one by one: a refusal's reasons (；), a list of labels (、)."""

    parts: list[Any]
    separator: str

    def __new__(cls, parts: Iterable[Any], separator: str | None = None) -> Joined:
        parts, separator = list(parts), REASONS if separator is None else separator
        text = str.__new__(cls, separator.join(map(str, parts)))
        text.template, text.params, text.parts, text.separator = str(text), {}, parts, separator
        return text


class Verbatim(str):
    """A parameter shown as it is in every language, even when it reads like a label: what someone typed, or the
    Chinese values a file must hold (the ledger's vocabularies)."""


def N_(template: str, **params: Any) -> Text:
    """A message of the domain, marked for the catalogue; translated where it is shown."""
    return Text(template, **params)


# The separators, translated too.
REASONS, LIST = N_("；"), N_("、")

# How the screens translate a Text: set by the application (app/i18n.py) to the reader's language; Chinese as is.
translator: Callable[[Text], str] = str
