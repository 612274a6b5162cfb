"""The `anxin` command line in Chinese: the catalogue covers every message of the commands, the committed
compiled catalogue is the one its source compiles to, and with ANXIN_LANG=zh every help text is Chinese."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from deploy.engines import REPO_ROOT

CATALOGUE = REPO_ROOT / "operations" / "locale" / "zh_CN" / "LC_MESSAGES" / "anxin.po"
COMPILED = CATALOGUE.with_suffix(".mo")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{\w*\}")
MARKUP = re.compile(r"\[/?[a-z]*\]")

# Walks the commands as Click builds them and prints each help text (commands and their parameters; Click's
# --help and Typer's shell-completion options keep their own English words).
HELP_TEXTS = """
import json, typer.main
from operations.cli import app
def walk(command, path):
    yield path, command.help or ""
    for param in command.params:
        if getattr(param, "help", None) and param.name not in ("help", "install_completion", "show_completion"):
            yield f"{path} {param.name}", param.help
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, f"{path} {name}")
print(json.dumps(dict(walk(typer.main.get_command(app), "anxin")), ensure_ascii=False))
"""


def _catalogue():  # type: ignore[no-untyped-def]
    with CATALOGUE.open("rb") as source:
        return read_po(source)


def _in_language(language: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANXIN_LANG": language, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_every_message_of_the_commands_has_a_translation_with_the_same_placeholders() -> None:
    catalogue = _catalogue()
    used = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            REPO_ROOT / "operations", method_map=[("**.py", "python")], keywords={"_": None}
        )
    }
    assert len(used) > 50
    for message in used:
        entry = catalogue.get(message)
        assert entry is not None and entry.string, f"no translation of {message!r} in {CATALOGUE.name}"
        assert sorted(PLACEHOLDER.findall(entry.string)) == sorted(PLACEHOLDER.findall(message)), message
        assert sorted(MARKUP.findall(entry.string)) == sorted(MARKUP.findall(message)), message
        assert not entry.fuzzy, message


def test_the_committed_compiled_catalogue_is_what_its_source_compiles_to() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalogue())
    assert COMPILED.read_bytes() == compiled.getvalue(), "run `make translations` and commit anxin.mo"


def test_every_help_text_is_chinese_with_anxin_lang_zh_and_english_without() -> None:
    chinese = _in_language("zh", "-c", HELP_TEXTS)
    assert chinese.returncode == 0, chinese.stderr
    texts = json.loads(chinese.stdout)
    assert len(texts) > 40
    untranslated = {path: text for path, text in texts.items() if not CHINESE.search(text)}
    assert untranslated == {}
    english = json.loads(_in_language("en", "-c", HELP_TEXTS).stdout)
    assert english.keys() == texts.keys()
    assert [path for path, text in english.items() if CHINESE.search(text.replace("安薪", ""))] == []


def test_a_refusal_is_told_in_the_chosen_language() -> None:
    args = ("-m", "operations.cli", "audit", "verify", "--service", "nowhere")
    chinese = _in_language("zh", *args)
    assert chinese.returncode == 2
    assert "未知的服务 nowhere" in chinese.stderr + chinese.stdout
    english = _in_language("en", *args)
    assert "unknown service nowhere" in english.stderr + english.stdout


def test_the_locale_of_the_shell_chooses_chinese_too() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ANXIN_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG="zh_CN.UTF-8", PYTHONIOENCODING="utf-8")
    answer = subprocess.run(
        [sys.executable, "-c", "from operations.i18n import _; print(_('nothing is stuck'))"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.stdout.strip() == "没有卡住的工作"


def test_the_catalogue_ships_with_the_package() -> None:
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert '"*.mo"' in pyproject and Path(COMPILED).exists()
