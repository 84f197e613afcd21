"""Sentences the hub says to people, in English and in the languages of its UI.

A :class:`Text` *is* its English sentence (a ``str``: logs, exceptions and the CLI use it
as it is) and keeps its template and values, so the API can say it again in the language
the caller asked for (``Accept-Language``). Templates are ordinary ``str.format`` strings;
a value that is itself a :class:`Text` (a type name, a list of choices) is translated too.

The catalogues live in :mod:`hub_engine.i18n_fr`; a template missing from one is said in
English rather than failing (``tests/unit/test_i18n.py`` keeps them complete).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub_engine.i18n_fr import FR

__all__ = ["LANGUAGES", "Text", "language_of", "message_of", "say"]

LANGUAGES = ("en", "fr")


class Text(str):
    """An English sentence that can be said in another language."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Text:
        self = super().__new__(cls, template.format(**params))
        self.template = template
        self.params = params
        return self

    def say(self, lang: str) -> str:
        table = _catalogue(lang)
        if table is None:
            return str(self)
        values = {k: say(v, lang) if isinstance(v, Text) else v for k, v in self.params.items()}
        return table.get(self.template, self.template).format(**values)


def say(message: str, lang: str) -> str:
    """``message`` in ``lang`` where it is a :class:`Text` with a translation, else as is."""
    return message.say(lang) if isinstance(message, Text) else str(message)


def message_of(exc: BaseException) -> str:
    """What an exception says, as the :class:`Text` it was raised with where it was
    (``str(exc)`` would give a plain copy that can no longer be translated)."""
    if len(exc.args) == 1 and isinstance(exc.args[0], Text):
        return exc.args[0]
    return str(exc)


def language_of(header: str | None) -> str:
    """The first of our languages named by an ``Accept-Language`` header (``fr-FR,fr;q=0.9``
    gives ``fr``); English when none is."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "en"


def _catalogue(lang: str) -> Mapping[str, str] | None:
    return FR if lang == "fr" else None
