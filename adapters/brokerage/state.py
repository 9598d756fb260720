"""Where the paper broker keeps its JSON state between calls and processes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol


class StateStore(Protocol):
    """Load and save one JSON-able dict; the composition root may back it with the database."""

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when nothing was saved yet."""
        ...

    def save(self, state: dict[str, Any]) -> None:
        """Replace the saved state."""
        ...


class MemoryStore:
    """A store in memory (a JSON copy, so callers cannot alias it), for tests."""

    def __init__(self) -> None:
        self._text: str | None = None

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None."""
        return None if self._text is None else dict(json.loads(self._text))

    def save(self, state: dict[str, Any]) -> None:
        """Replace the saved state."""
        self._text = json.dumps(state)


class JsonFileStore:
    """A store in one JSON file, replaced atomically on save."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when the file does not exist."""
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None

    def save(self, state: dict[str, Any]) -> None:
        """Write to a temporary file, then rename it over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
