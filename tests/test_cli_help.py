"""`finbot --help` reads well and the exit codes it states hold: the real CLI, run as a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer.main

from adapters.cli.help import summary
from adapters.cli.main import app
from tests.test_docs import OUTSIDE

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("finbot")


def finbot(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed `finbot` console script (the module when the script is not there), 80 columns wide."""
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "adapters.cli.main"]
    full_env = {**os.environ, "COLUMNS": "80", "TELEGRAM_BOT_TOKEN": "", **(env or {})}
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=timeout)


def command_tree() -> list[tuple[tuple[str, ...], object]]:
    """Every command and group under `finbot`, as (path, click command), the root first."""
    out: list[tuple[tuple[str, ...], object]] = []

    def walk(path: tuple[str, ...], cmd: object) -> None:
        out.append((path, cmd))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk((*path, name), sub)

    walk((), typer.main.get_command(app))
    return out


TREE = command_tree()
PATHS = [path for path, _ in TREE]


def test_the_tree_holds_every_known_command() -> None:
    leaves = {" ".join(p) for p, c in TREE if not getattr(c, "commands", None)}
    assert {"run", "chat", "simulate", "migrate", "ledger check", "ledger balances", "ledger accounts",
            "ledger statement", "ledger migrate", "intents parse", "intents eval"} <= leaves


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "finbot" for p in PATHS])
def test_help_reads_plainly(path: tuple[str, ...]) -> None:
    result = finbot(*path, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    usage = text.splitlines()[0]
    assert usage.startswith("Usage: finbot"), usage
    # plain argument and value names: FILE, TEXT, URL; never {file}, <str> or <list[Path]>
    assert not re.search(r"[{}<>]", usage), usage
    assert not re.search(r"<[a-zA-Z][\w\[\], |]*>", text), text
    assert not re.search(r"\{[a-z_]+\}", text), text
    assert "Examples:" in text and "Exit status:" in text, text
    assert "finbot " in text.split("Examples:", 1)[1], "the examples show commands to type"
    assert not OUTSIDE.search(text), f"help points outside the repository: {OUTSIDE.search(text)}"


@pytest.mark.parametrize("path", [p for p, c in TREE if getattr(c, "commands", None)],
                         ids=lambda p: " ".join(p) or "finbot")
def test_command_lists_show_whole_one_line_summaries(path: tuple[str, ...]) -> None:
    cmd = dict(TREE)[path]
    text = finbot(*path, "--help").stdout
    listing = text.split("\nCommands:\n", 1)[1].splitlines()
    rows = [line for line in listing if line.strip()]
    subs = cmd.commands  # type: ignore[attr-defined]
    assert len(rows) == len(subs), f"a summary wraps onto a second line at 80 columns:\n{text}"
    for row, (name, sub) in zip(rows, subs.items(), strict=True):
        shown = row.strip()
        want = summary(sub.help)
        assert shown == f"{name}{shown[len(name):]}" and shown[len(name):].strip() == want, (row, want)
        assert "…" not in shown and not shown.endswith("..."), row
        assert want.endswith("."), f"{name}: the summary is a whole sentence"


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = finbot("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"finbot {version('finbot')}" == f"finbot {declared}"


BAD_INPUT = [
    ("an unknown command", ["nosuch"]),
    ("a missing argument", ["simulate"]),
    ("no such scenario file", ["simulate", "does-not-exist.jsonl"]),
    ("a --db that is not a URL", ["migrate", "--db", "nonsense"]),
    ("a --db of an unknown kind", ["ledger", "check", "--db", "foo://x"]),
    ("a --now that is not ISO 8601", ["simulate", "--now", "yesterday", "tests/scenarios/request_pay.jsonl"]),
    ("an unknown --lang", ["intents", "parse", "--lang", "de", "hallo"]),
    ("a bad --now for parse", ["intents", "parse", "--now", "soon", "hi"]),
    ("no such labelled file", ["intents", "eval", "does-not-exist.jsonl"]),
    ("an account id that is not a number", ["ledger", "statement", "abc"]),
]


@pytest.mark.parametrize("args", [a for _, a in BAD_INPUT], ids=[n for n, _ in BAD_INPUT])
def test_bad_input_exits_2_with_a_message(args: list[str], tmp_path: Path) -> None:
    result = finbot(*args, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip(), "a bad input is named on stderr"


def test_no_such_account_exits_2_and_a_good_run_exits_0(db_url: str) -> None:
    env = {"DATABASE_URL": db_url}
    done = finbot("migrate", "--db", db_url, env=env)
    assert done.returncode == 0 and done.stdout.startswith("migrated "), done.stderr
    missing = finbot("ledger", "statement", "999999", "--db", db_url, env=env)
    assert missing.returncode == 2 and "no account with id 999999" in missing.stderr
    assert finbot("ledger", "check", "--db", db_url, env=env).returncode == 0
    parsed = finbot("intents", "parse", "--lang", "en", "show balance")
    assert parsed.returncode == 0 and '"intent": "balance"' in parsed.stdout


def test_db_option_takes_every_url_finbot_opens() -> None:
    from adapters.cli.ledger_cmd import database_url

    for url in ("sqlite:///finbot.db", "postgresql+psycopg://u@h/db", "postgresql://u@h/db", "postgres://u@h/db"):
        assert database_url(url) == url
