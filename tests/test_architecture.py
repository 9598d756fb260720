"""The shape of bot/, checked on its source (ast): small files, no one else's _private names, no import
cycle (function-local imports count too), and every room listed in bot/bus.py has `register(bus)`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
MAX_LINES = 400
FIRST_PARTY = ("bot", "ledger", "intents")


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def sources(package: Path) -> dict[str, Path]:
    """Every module of a package (its migrations' generated revisions left out), by dotted name."""
    root = package.parent
    return {module_name(p, root): p for p in sorted(package.rglob("*.py")) if "versions" not in p.parts}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """True for an import under `if TYPE_CHECKING:` (read by type checkers, never executed)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return True
        if isinstance(node, ast.If) and isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING":
            return True
    return False


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules of `known` that module `name` imports anywhere in it (inside functions too)."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    out.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    out.add(sub)  # `from bot.handlers import cards` imports the module bot.handlers.cards
                elif base in known:
                    out.add(base)
    out.discard(name)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle (one path each), found by a depth-first walk."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def private_uses(path: Path, name: str) -> list[str]:
    """Where module `name` uses another first-party module's `_private` name: imported by name, or read
    off a module it imported (`cards._x`)."""
    tree = ast.parse(path.read_text())
    out: list[str] = []
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FIRST_PARTY and node.module != name:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    out.append(f"{name}:{node.lineno} imports {node.module}.{alias.name}")
                if alias.name[:1].islower():
                    aliases.add(alias.asname or alias.name)  # may be a module (`from bot.handlers import cards`)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FIRST_PARTY:
                    aliases.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in aliases):
            out.append(f"{name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return out


def rooms_listed() -> tuple[str, ...]:
    from bot.bus import ROOMS

    return ROOMS


def has_register(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.FunctionDef) and node.name == "register" and len(node.args.args) == 1
               for node in tree.body)


# ---------------------------------------------------------------- the rules, on bot/


def test_no_bot_file_is_over_400_lines() -> None:
    long = {name: n for name, path in sources(BOT).items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_bot_module_uses_another_modules_private_names() -> None:
    found = [use for name, path in sources(BOT).items() for use in private_uses(path, name)]
    assert found == []


def test_no_import_cycle_among_bot_modules() -> None:
    mods = sources(BOT)
    known = set(mods)
    graph = {name: imports_of(path, name, known) for name, path in mods.items()}
    assert cycles(graph) == []


def test_every_room_has_register_and_every_module_with_register_is_a_room() -> None:
    mods = sources(BOT)
    listed = rooms_listed()
    assert len(set(listed)) == len(listed)
    assert [room for room in listed if room not in mods or not has_register(mods[room])] == []
    unlisted = [name for name, path in mods.items() if name.startswith("bot.handlers.") and has_register(path)
                and name not in listed]
    assert unlisted == []


def test_the_engine_loads_every_room_into_the_bus() -> None:
    from bot.engine import load_bus

    bus = load_bus()
    assert {"send", "request", "split", "deposit", "withdraw", "balance", "history", "buy", "sell", "quote",
            "portfolio", "cancel", "help"} <= set(bus.intents)
    assert {"start", "pin", "totp", "lang", "currency", "statement", "admin", "help", "cancel"} <= set(bus.commands)
    assert {"send", "deposit", "withdraw", "pay_request", "request", "split", "buy", "sell"} <= set(bus.executors)
    assert {"confirm", "cancel", "retry", "topup", "pay", "decline", "show:", "cancel_order"} <= set(bus.presses)
    assert bus.press_handler("show:balance:USD") is bus.presses["show:"]
    assert len(bus.ticks) >= 6


# ---------------------------------------------------------------- the checks can fail


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "bot"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


@pytest.mark.parametrize("local", [False, True], ids=["module-level", "function-local"])
def test_a_cycle_is_found_even_through_a_function_local_import(tmp_path: Path, local: bool) -> None:
    b_body = "def f():\n    from bot import a\n" if local else "from bot import a\n"
    pkg = _tree(tmp_path, {"__init__.py": "", "a.py": "from bot.b import f\n", "b.py": b_body,
                           "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot import a\n"})
    mods = sources(pkg)
    graph = {name: imports_of(path, name, set(mods)) for name, path in mods.items()}
    assert cycles(graph) == [["bot.a", "bot.b", "bot.a"]]
    assert graph["bot.c"] == set()  # typing-only imports never run


def test_a_private_name_of_another_module_is_found(tmp_path: Path) -> None:
    pkg = _tree(tmp_path, {"__init__.py": "", "a.py": "def _x():\n    pass\n",
                           "b.py": "from bot.a import _x\nfrom bot import a\nfrom bot import a as other\n"
                                   "a._x()\nother._x()\nclass K:\n    def _own(self):\n        return self._own\n"})
    found = private_uses(pkg / "b.py", "bot.b")
    assert found == ["bot.b:1 imports bot.a._x", "bot.b:4 uses a._x", "bot.b:5 uses other._x"]


def test_a_room_without_register_is_found(tmp_path: Path) -> None:
    pkg = _tree(tmp_path, {"r.py": "def register(bus):\n    pass\n", "s.py": "def handler(app, c):\n    pass\n"})
    assert has_register(pkg / "r.py") and not has_register(pkg / "s.py")
