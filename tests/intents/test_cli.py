"""`finbot intents parse` prints the contract's object; the CLI module stays light to import."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from adapters.cli.intents_cmd import app
from intents.model import KEYS


def test_parse_prints_one_object_with_every_key() -> None:
    result = CliRunner().invoke(app, ["parse", "--now", "2026-11-18T12:00:00+00:00", "send $20 to @anna tomorrow"])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output)
    assert list(obj) == list(KEYS)
    assert obj["intent"] == "send" and obj["amount"] == "20" and obj["currency"] == "USD"
    assert obj["recipients"] == ["@anna"] and obj["when"] == "2026-11-19"


def test_parse_lang_option() -> None:
    result = CliRunner().invoke(app, ["parse", "--lang", "nb", "send 1.000 kr til @ola"])
    obj = json.loads(result.output)
    assert obj["lang"] == "nb" and obj["amount"] == "1000"
    result = CliRunner().invoke(app, ["parse", "--lang", "en", "send 1.000 to @ola"])
    assert json.loads(result.output)["clarify"] == "ambiguous_amount"


def test_bad_options_are_refused() -> None:
    assert CliRunner().invoke(app, ["parse", "--lang", "de", "hallo"]).exit_code != 0
    assert CliRunner().invoke(app, ["parse", "--now", "yesterday", "hi"]).exit_code != 0


def test_help_explains_both_commands() -> None:
    out = CliRunner().invoke(app, ["--help"]).output
    assert "parse" in out and "eval" in out
    assert "--now" in CliRunner().invoke(app, ["eval", "--help"]).output


def test_cli_module_imports_no_heavy_dependencies() -> None:
    code = "import sys, adapters.cli.intents_cmd; print(sorted(m for m in ('telegram','sqlalchemy','spacy','intents.parser') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
