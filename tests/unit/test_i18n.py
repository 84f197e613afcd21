"""Every sentence the hub says to a user has its French, and the API says it in the
caller's language: configuration errors, warnings, member windows, CSV lines."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from hub_engine.config import parse_config
from hub_engine.errors import ConfigError
from hub_engine.i18n import Text, language_of, message_of, say
from hub_engine.i18n_fr import FR
from hub_engine.typed import ConfigErrors

ROOT = Path(__file__).resolve().parents[2] / "hub_engine"
# Exceptions whose message reaches a user (API answers, `hub check-config`, the UI).
SAID = {"FieldError": 1, "ConfigError": 1, "ApiError": 1, "CommandError": 0}


def _calls() -> list[tuple[str, int, ast.Call]]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                out.append((str(path.relative_to(ROOT)), node.lineno, node))
    return out


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_template_has_its_french_with_the_same_values() -> None:
    templates = {}
    for where, line, call in _calls():
        if call.func.id == "Text":  # type: ignore[attr-defined]
            first = call.args[0]
            assert isinstance(first, ast.Constant), f"{where}:{line}: a template is a literal"
            templates[first.value] = f"{where}:{line}"
    assert len(templates) > 100
    missing = {t: w for t, w in templates.items() if t not in FR}
    assert not missing, f"no French for: {missing}"
    for template, where in templates.items():
        assert _fields(FR[template]) == _fields(template), where
    assert not set(FR) - set(templates), "French for sentences the hub no longer says"


def test_no_error_a_user_reads_is_raised_as_plain_english() -> None:
    plain = [f"{where}:{line}" for where, line, call in _calls()
             if call.func.id in SAID and len(call.args) > SAID[call.func.id]  # type: ignore[attr-defined]
             and isinstance(call.args[SAID[call.func.id]], (ast.JoinedStr, ast.Constant))]  # type: ignore[attr-defined]
    assert plain == []


@pytest.mark.parametrize(("header", "lang"), [
    (None, "en"), ("", "en"), ("fr-FR,fr;q=0.9,en;q=0.8", "fr"), ("de-DE,en;q=0.5", "en"),
    ("de, fr;q=0.7", "fr"), ("FR", "fr"),
])
def test_the_language_comes_from_accept_language(header: str | None, lang: str) -> None:
    assert language_of(header) == lang


SITE = """
sites:
  - id: s1
    grid:
      id: grid
      limit_a: 63
      children:
        - id: board
          limit_a: {board}
          charge_points: [{{id: {cp}}}]
ems: {{min_current_a: {min_a}}}
"""


@pytest.mark.parametrize(("text", "english", "french"), [
    (SITE.format(board="lots", cp="CP1", min_a=6), "got 'lots', expected a number",
     "valeur 'lots', attendu : un nombre"),
    (SITE.format(board=40, cp="CP/1", min_a=6), "expected a non-empty id without '/'",
     "attendu : un identifiant non vide sans '/'"),
    (SITE.format(board=40, cp="CP1", min_a=90), "no car could ever charge",
     "aucune voiture ne pourrait jamais charger"),
    (SITE.format(board=40, cp="CP1", min_a=6) + "colour: red\n", "unknown key; expected one of",
     "clé inconnue ; clés possibles :"),
    ("sites: [", "not valid YAML at line", "YAML invalide (line"),
])
def test_configuration_errors_in_both_languages(text: str, english: str, french: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    exc = caught.value
    every = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    assert any(english in e.message for e in every), [e.message for e in every]
    assert any(french in say(e.message, "fr") for e in every), [say(e.message, "fr")
                                                               for e in every]
    assert english in str(exc)  # the logs and the CLI stay in English


def test_nested_values_are_translated_and_plain_strings_pass_through() -> None:
    text = Text("missing; expected {expected}",
                expected=Text("{first} or {second}", first=Text("a number"), second="null"))
    assert text == "missing; expected a number or null"
    assert say(text, "fr") == "manquant ; attendu : un nombre ou null"
    assert say(text, "de") == text and say("plain", "fr") == "plain"
    assert message_of(ValueError(text)) is text
    assert message_of(ValueError("a", "b")) == "('a', 'b')"


def test_warnings_are_translated() -> None:
    config = parse_config(SITE.format(board=70, cp="CP1", min_a=6))
    [warning] = config.warnings()
    assert warning.startswith("sites[0].grid.children[0].limit_a: 70 A is above its parent")
    assert say(warning, "fr").startswith(
        "sites[0].grid.children[0].limit_a : 70 A dépasse son parent 'grid' (63 A)")


def test_a_charge_point_above_25_kw_is_flagged_on_a_zni_site() -> None:
    zni = "signals: {zni: {dataset: d}}\n"
    site_ = ("sites: [{id: s1, grid: {id: g, limit_a: 200, charge_points: [{id: AC22},"
             " {id: DC50, dc: true, max_power_w: 50000}]}}]\n")
    assert parse_config(site_).warnings() == []
    [warning] = parse_config(zni + site_).warnings()
    assert warning == "charge point DC50: 50 kW is above the 25 kW of Advenir ZNI (not eligible)"
    assert say(warning, "fr").startswith("borne DC50 : 50 kW dépasse les 25 kW")
