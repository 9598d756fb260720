"""The project's documentation stands alone and says what the code does: no pointer outside the
repository, the README's command list is the real command tree, docs/settings.md is what the
generator writes, and the scenario and intent pages match the simulator and the parser."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import typer.main

from adapters.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = ["README.md", "architecture.md", "scenarios.md", "intents.md", "settings.md", "operating.md"]

# A pointer out of the repository: a parent folder (but not an ellipsis "..."), a machine's own
# folders, or the contracts the project was first written against, which are not part of it.
OUTSIDE = re.compile(r"(?<![.\w])\.\./|/work/|/home/|\bshared/|\b(?:SCENARIOS|INTENTS|DESIGN|FACTS)\.md\b")


def tracked_text_files() -> list[Path]:
    """Every file git tracks that a person reads: docs, sources, build files, help texts' sources."""
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    keep = (".md", ".py", ".toml", ".txt", ".ini", ".example", ".po", ".json", ".yaml", ".yml")
    files = [ROOT / n for n in names if n.endswith(keep) or n in ("Makefile", ".ci/run")]
    return [f for f in files if f.is_file() and f.name != "test_docs.py"]


def test_docs_has_every_page_and_the_readme_links_them() -> None:
    readme = README.read_text(encoding="utf-8")
    for page in PAGES:
        assert (DOCS / page).is_file(), page
        assert f"docs/{page}" in readme, f"README.md does not link docs/{page}"


@pytest.mark.parametrize("path", tracked_text_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_points_outside_the_repository(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        found = OUTSIDE.search(line)
        assert found is None, f"{path.relative_to(ROOT)}:{number} points outside the repository: {line.strip()}"


def _markdown_files() -> list[Path]:
    return [p for p in tracked_text_files() if p.suffix == ".md"] + sorted(DOCS.glob("*.md"))


@pytest.mark.parametrize("path", sorted(set(_markdown_files())), ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_named_files_exist_in_the_repository(path: Path) -> None:
    """Every relative link resolves inside the repository, and so does every repository path
    the text names in backticks (`bot/engine.py`, `adapters/telegram/README.md`)."""
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        resolved = (path.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{path.name}: link {target} leaves the repository"
        assert resolved.exists(), f"{path.name}: link {target} goes nowhere"
    rooms = ("adapters/", "bot/", "intents/", "ledger/", "tests/", "docs/", "bench/")
    for named in re.findall(r"`([A-Za-z0-9_./*-]+)`", text):
        if named.startswith(rooms) and "*" not in named and "<" not in named:
            bare = named.rstrip("/")
            assert (ROOT / bare).exists() or (path.parent / bare).exists(), f"{path.name} names `{named}`, which does not exist"


# --- the README's command list is the real command tree ------------------------------------------


def command_leaves() -> set[str]:
    out: set[str] = set()

    def walk(path: tuple[str, ...], cmd: object) -> None:
        subs = getattr(cmd, "commands", None)
        if not subs:
            out.add(" ".join(path))
        for name, sub in (subs or {}).items():
            walk((*path, name), sub)

    walk((), typer.main.get_command(app))
    return out


def readme_commands() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    listed: set[str] = set()
    for line in section.splitlines():
        m = re.match(r"^ {4}finbot ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)*)", line)
        if m:
            listed.add(m.group(1))
    return listed


def test_readme_lists_exactly_the_commands_that_exist() -> None:
    real, listed = command_leaves(), readme_commands()
    assert real - listed == set(), f"commands missing from the README: {sorted(real - listed)}"
    assert listed - real == set(), f"the README lists commands that do not exist: {sorted(listed - real)}"
    assert {"ledger accounts", "ledger statement", "migrate"} <= listed


def test_readme_keeps_two_set_up_commands_and_ci_runs_the_test_one() -> None:
    text = README.read_text(encoding="utf-8")
    setup = text.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^ {4}(make [a-z]+)", setup, flags=re.M)
    assert commands == ["make run", "make test"], commands
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test\b", ci, flags=re.M), ".ci/run must run the README's test command"


def test_readme_names_only_settings_that_exist() -> None:
    from bot.config import Settings

    known = {name.upper() for name in Settings.model_fields}
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", section))
    assert named and named <= known, f"the README names settings that do not exist: {sorted(named - known)}"


# --- docs/settings.md is generated ---------------------------------------------------------------


def test_settings_page_is_what_the_generator_writes() -> None:
    from adapters.cli.settings_doc import render

    assert (DOCS / "settings.md").read_text(encoding="utf-8") == render(), (
        "docs/settings.md is out of date: run `make docs` (python -m adapters.cli.settings_doc)")


def test_every_setting_is_described_and_listed() -> None:
    from adapters.cli.settings_doc import rows, undocumented
    from bot.config import Settings

    assert undocumented() == [], "settings without a description: add a comment above them in .env.example"
    assert [r[0] for r in rows()] == [name.upper() for name in Settings.model_fields]


def test_settings_generator_check_mode_catches_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.cli import settings_doc

    stale = tmp_path / "settings.md"
    stale.write_text(settings_doc.render().replace("DATABASE_URL", "DATABASE_ADDRESS"), encoding="utf-8")
    monkeypatch.setattr(settings_doc, "TARGET", stale)
    monkeypatch.setattr(settings_doc, "ROOT", tmp_path)
    assert settings_doc.main(["--check"]) == 1
    assert settings_doc.main([]) == 0 and settings_doc.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == settings_doc.render()


def test_env_comments_belong_to_the_keys_below_them() -> None:
    from adapters.cli.settings_doc import env_comments

    text = "# first\nA=1\n# shared by two\nB=2\nC=3\n\nD=4\n# after\nE=5\n"
    assert env_comments(text) == {"A": "first", "B": "shared by two", "C": "shared by two", "D": "", "E": "after"}


# --- docs/scenarios.md says which lines the simulator reads --------------------------------------


def scenario_rows() -> list[tuple[dict[str, object], str]]:
    text = (DOCS / "scenarios.md").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\| `(\{.*\})` \| .* \| (yes|not yet) \|$", line)
        if m:
            rows.append((json.loads(m.group(1)), m.group(2)))
    return rows


def test_scenario_page_lists_every_line_kind() -> None:
    kinds = {next(k for k in ("advance", "operator", "members", "left", "press", "reply_to", "lang", "text") if k in row)
             for row, _ in scenario_rows()}
    assert kinds == {"advance", "operator", "members", "left", "press", "reply_to", "lang", "text"}


def test_scenario_page_says_truly_which_lines_the_simulator_reads(tmp_path: Path) -> None:
    """Each documented line is played after a small prologue; 'yes' lines must be read, 'not yet'
    lines refused (exit 2). When the simulator learns a new kind, this fails until the page says so."""
    import io
    from datetime import UTC, datetime

    from adapters.cli.main import _local_world
    from adapters.local.simulate import ScenarioError, play, start_clock
    from bot.config import load_settings

    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'world.db'}", output_dir=tmp_path / "out",
                             telegram_bot_token="")
    world = _local_world(settings, simulated_clock=True)
    start_clock(world, datetime(2026, 11, 18, 12, tzinfo=UTC))
    prologue = [{"user": u, "chat": "dm", "text": "/start"} for u in ("alice", "bob", "carol")]
    prologue += [{"user": "bob", "chat": "g:trip", "text": "hi all"}, {"user": "alice", "chat": "dm", "text": "/pin"}]
    out = io.StringIO()
    play(world, [json.dumps(line) for line in prologue], out)
    wrong = []
    for row, support in scenario_rows():
        try:
            play(world, [json.dumps(row)], out)
            read = True
        except ScenarioError:
            read = False
        if read != (support == "yes"):
            wrong.append(f"{row}: the page says {support!r}, the simulator {'reads' if read else 'refuses'} it")
    assert not wrong, "docs/scenarios.md is wrong about the simulator:\n" + "\n".join(wrong)

    # every key of the output is described on the page
    page = (DOCS / "scenarios.md").read_text(encoding="utf-8")
    section = page.split("\n## The output\n", 1)[1].split("\n## ", 1)[0]
    keys = {key for line in out.getvalue().splitlines() for key in json.loads(line)}
    assert {"chat", "text", "buttons"} <= keys
    assert all(f"`{key}`" in section for key in keys), sorted(k for k in keys if f"`{k}`" not in section)


# --- docs/intents.md names what the parser returns -----------------------------------------------


def test_intents_page_names_every_intent_key_and_clarify_code() -> None:
    from intents.model import CLARIFY_CODES, INTENTS, KEYS

    page = (DOCS / "intents.md").read_text(encoding="utf-8")
    tables = {name: set(re.findall(r"^\| `([a-z_]+)` \|", page.split(heading, 1)[1].split("\n#", 1)[0], flags=re.M))
              for name, heading in (("keys", "## The parsed object"), ("intents", "### Intents"),
                                    ("clarify", "### When the parser asks back"))}
    assert tables["keys"] == set(KEYS)
    assert tables["intents"] == set(INTENTS)
    assert tables["clarify"] == set(CLARIFY_CODES)


def test_intents_page_counts_dangerous_lines_as_the_scorer_does() -> None:
    from intents.model import MONEY_INTENTS
    from intents.scoring import MONEY_SLOTS

    page = (DOCS / "intents.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| `dangerous` |"))
    intents_part = row.split("with `clarify` null", 1)[0]
    slots_part = row.split("one of", 1)[1].split("that `expect` holds", 1)[0]
    assert set(re.findall(r"`([a-z_]+)`", intents_part)) - {"dangerous"} == set(MONEY_INTENTS)
    assert set(re.findall(r"`([a-z_]+)`", slots_part)) == set(MONEY_SLOTS)


# --- the pages cover what an operator and a new contributor need ---------------------------------


@pytest.mark.parametrize(("page", "must"), [
    ("architecture.md", ["Engine.handle", "bot/engine.py", "hotpath.py", "ProcessedEvent", "after the commit"]),
    ("operating.md", ["## On Telegram", "## Behind a webhook", "## Several workers", "### SQLite", "### PostgreSQL",
                      "## The PIN key, and rotating it", "PIN_KEY_FILE", "argon2id"]),
    ("scenarios.md", ["## Exit status", "## The output", "## What a scenario may rely on", "not yet"]),
    ("intents.md", ["## A labelled file", "intent_accuracy", "slot_exact", "dangerous"]),
])
def test_pages_cover_their_points(page: str, must: list[str]) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    missing = [m for m in must if m not in text]
    assert not missing, f"docs/{page} lacks {missing}"
