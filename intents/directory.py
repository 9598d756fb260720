"""The instrument directory: symbols, names and aliases, shared by the parser and the brokerage."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Instrument:
    """One tradable instrument as the directory describes it."""

    symbol: str
    name: str
    kind: str
    exchange: str
    calendar: str
    currency: str
    fractionable: bool
    reference_price: Decimal
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def names(self, lang: str | None = None) -> tuple[str, ...]:
        """Lower-cased aliases for one language (all languages when `lang` is None)."""
        if lang is not None:
            return self.aliases.get(lang, ())
        seen: list[str] = []
        for values in self.aliases.values():
            seen.extend(v for v in values if v not in seen)
        return tuple(seen)


class InstrumentDirectory:
    """A read-only set of instruments, looked up by symbol."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self._by_symbol = {i.symbol: i for i in instruments}

    def get(self, symbol: str) -> Instrument | None:
        """The instrument with this ticker (case-insensitive), or None."""
        return self._by_symbol.get(symbol.upper())

    def __contains__(self, symbol: object) -> bool:
        return isinstance(symbol, str) and symbol.upper() in self._by_symbol

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_symbol.values())

    def __len__(self) -> int:
        return len(self._by_symbol)

    def all(self) -> list[Instrument]:
        """Every instrument, in file order."""
        return list(self._by_symbol.values())


def _instrument(row: dict[str, object]) -> Instrument:
    aliases_raw = row.get("aliases") or {}
    assert isinstance(aliases_raw, dict)
    aliases = {str(k): tuple(str(a).lower() for a in v) for k, v in aliases_raw.items()}
    return Instrument(
        symbol=str(row["symbol"]).upper(),
        name=str(row["name"]),
        kind=str(row.get("kind", "stock")),
        exchange=str(row["exchange"]),
        calendar=str(row.get("calendar", row["exchange"])),
        currency=str(row["currency"]).upper(),
        fractionable=bool(row.get("fractionable", False)),
        reference_price=Decimal(str(row["reference_price"])),
        aliases=aliases,
    )


def load_directory(path: str | Path | None = None) -> InstrumentDirectory:
    """Load a directory from a JSON file; the packaged `intents/data/instruments.json` by default."""
    if path is None:
        return _default_directory()
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return InstrumentDirectory([_instrument(r) for r in data["instruments"]])


@cache
def _default_directory() -> InstrumentDirectory:
    text = resources.files("intents").joinpath("data/instruments.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return InstrumentDirectory([_instrument(r) for r in data["instruments"]])
