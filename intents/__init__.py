"""The intent parser: chat text in English, Norwegian or French to a typed, checked Intent."""

from intents.directory import Instrument, InstrumentDirectory, load_directory
from intents.model import (
    CLARIFY_CODES,
    INTENTS,
    MONEY_INTENTS,
    AmountParse,
    Intent,
)
from intents.parser import parse, parse_amount
from intents.pipeline import warm_up

__all__ = [
    "CLARIFY_CODES",
    "INTENTS",
    "MONEY_INTENTS",
    "AmountParse",
    "Instrument",
    "InstrumentDirectory",
    "Intent",
    "load_directory",
    "parse",
    "parse_amount",
    "warm_up",
]
