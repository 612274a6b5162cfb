"""The language of the `anxin` command line: English, or simplified Chinese (简体中文) when the locale asks.

Standard gettext. The messages in the code are their English text; the Chinese catalogue is
`operations/locale/zh_CN/LC_MESSAGES/anxin.po`, compiled to the `anxin.mo` beside it (committed, so that a
production image needs no compiler; `make translations` compiles it again with Babel, and a unit test fails
while the two differ or a message of the commands has no translation).

The language follows LANGUAGE, LC_ALL, LC_MESSAGES and LANG as in every gettext program (`zh_CN.UTF-8`
gives Chinese); ANXIN_LANG (`zh` or `en`) wins over them, for an operator whose shell stays in English.
Help texts are translated when the commands are defined, so the language is chosen once, at start.
"""

from __future__ import annotations

import gettext
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "anxin"
# ANXIN_LANG's short names, as gettext's catalogue folders are named.
_LANGUAGES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "en": "en"}


def _chosen_languages() -> list[str] | None:
    chosen = os.environ.get("ANXIN_LANG", "").strip()
    if not chosen:
        return None  # gettext reads LANGUAGE, LC_ALL, LC_MESSAGES and LANG itself
    return [_LANGUAGES.get(chosen.lower(), chosen)]


_translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=_chosen_languages(), fallback=True)


def _(message: str) -> str:
    """`message` in the chosen language (itself when the catalogue has no translation)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _translation.ngettext(singular, plural, count)


def chinese() -> bool:
    """Whether the commands speak Chinese (the catalogue was found for the chosen language)."""
    return isinstance(_translation, gettext.GNUTranslations)


Command = TypeVar("Command", bound=Callable[..., Any])


def command(app: typer.Typer, name: str) -> Callable[[Command], Command]:
    """`app.command(name)` with the function's docstring, translated, as its help: the docstring stays the
    English text developers read, and is the catalogue's message id."""

    def register(function: Command) -> Command:
        app.command(name, help=_(inspect.cleandoc(function.__doc__ or "")))(function)
        return function

    return register


def translate_help_panels() -> None:
    """Typer's own panel titles (Options, Arguments, Commands) in the chosen language. Click's few words
    (Usage, Show this message and exit) stay as Click prints them."""
    if not chinese():
        return
    import typer.rich_utils as panels

    panels.ARGUMENTS_PANEL_TITLE = _("Arguments")
    panels.OPTIONS_PANEL_TITLE = _("Options")
    panels.COMMANDS_PANEL_TITLE = _("Commands")
