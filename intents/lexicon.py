"""The per-language word lists of intents/data, loaded once into lookup-ready form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources

from intents.normalize import fold

# Cue categories a language file may hold (lists of phrases without a value).
CUE_CATEGORIES: tuple[str, ...] = (
    "pre",
    "acquire",
    "neg",
    "past",
    "narr",
    "question",
    "thing",
    "request_noun",
    "request_carrier",
    "ways",
    "to",
    "from",
    "with",
    "and",
    "or",
    "for",
    "reply",
    "self",
    "poss",
    "each",
    "shares",
    "of",
    "worth",
    "limit",
    "pct",
    "per",
    "every",
    "other",
    "other_every",
    "next",
    "on",
    "in",
    "of_month",
    "filler",
    "note_word",
    "people",
    "first",
    "everyone",
    "standing",
)
# Valued categories: value -> phrases.
VALUED_CATEGORIES: tuple[str, ...] = (
    "cur",
    "wd",
    "wds",
    "month",
    "rel",
    "ord",
    "frac",
    "mult",
    "freq",
    "unit",
    "one",
)


@dataclass(frozen=True)
class Common:
    """Data shared by all languages (intents/data/common.json)."""

    languages: tuple[str, ...]
    currency_symbols: dict[str, str]
    currency_codes: frozenset[str]
    default_decimals: int
    case_sensitive_symbols: frozenset[str]
    bot_suffix: str
    handle_max: int


@dataclass(frozen=True)
class Lexicon:
    """One language's phrases, commands and number rules, as read from its JSON file."""

    code: str
    spacy: str
    decimal_mark: str
    group_marks: tuple[str, ...]
    number_words: str
    commands: dict[str, str]
    phrases: tuple[tuple[str, str, str], ...]
    detect: frozenset[str]
    numbers: dict[str, object] = field(default_factory=dict)
    patterns: tuple[tuple[str, str, tuple[object, ...]], ...] = ()
    symbol_suffixes: tuple[str, ...] = ()
    note_suffixes: tuple[str, ...] = ()
    number_hint: tuple[str, ...] = ()
    slang: dict[str, str] = field(default_factory=dict)

    def words(self) -> frozenset[str]:
        """Every folded single word this language's data knows (for language detection)."""
        out: set[str] = set(self.detect)
        for _cat, _value, phrase in self.phrases:
            for word in phrase.split():
                out.add(fold(word))
        return frozenset(w for w in out if any(ch.isalpha() for ch in w))


def _read_json(name: str) -> dict[str, object]:
    text = resources.files("intents").joinpath("data", name).read_text(encoding="utf-8")
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


@cache
def common() -> Common:
    """The shared data, loaded once."""
    data = _read_json("common.json")
    symbols = data["currency_symbols"]
    codes = data["currency_codes"]
    langs = data["languages"]
    sens = data["case_sensitive_symbols"]
    assert isinstance(symbols, dict) and isinstance(codes, list)
    assert isinstance(langs, list) and isinstance(sens, list)
    return Common(
        languages=tuple(str(x) for x in langs),
        currency_symbols={str(k): str(v) for k, v in symbols.items()},
        currency_codes=frozenset(str(c).upper() for c in codes),
        default_decimals=int(str(data["default_decimals"])),
        case_sensitive_symbols=frozenset(str(s).upper() for s in sens),
        bot_suffix=str(data["bot_suffix"]).lower(),
        handle_max=int(str(data["handle_max"])),
    )


def _str_list(value: object) -> list[str]:
    assert isinstance(value, list), value
    return [str(v) for v in value]


@cache
def lexicon(lang: str) -> Lexicon:
    """The lexicon of one language (`intents/data/lang/<lang>.json`), loaded once."""
    data = _read_json(f"lang/{lang}.json")
    phrases: list[tuple[str, str, str]] = []
    intent = data.get("intent", {})
    cue = data.get("cue", {})
    valued = data.get("valued", {})
    assert isinstance(intent, dict) and isinstance(cue, dict) and isinstance(valued, dict)
    for name, items in intent.items():
        phrases.extend(("intent", str(name), p) for p in _str_list(items))
    for cat, items in cue.items():
        if cat not in CUE_CATEGORIES:
            raise ValueError(f"{lang}.json: unknown cue category {cat!r}")
        phrases.extend((cat, "", p) for p in _str_list(items))
    for cat, table in valued.items():
        if cat not in VALUED_CATEGORIES:
            raise ValueError(f"{lang}.json: unknown valued category {cat!r}")
        assert isinstance(table, dict)
        for value, items in table.items():
            phrases.extend((cat, str(value), p) for p in _str_list(items))
    written = {fold(p) for cat, _v, p in phrases if cat == "cur"}
    for code in sorted(common().currency_codes):
        # Every ISO code of common.json is read as itself in every language ("200 PLN").
        if code.lower() not in written:
            phrases.append(("cur", code, code.lower()))
    commands: dict[str, str] = {}
    cmd_table = data.get("commands", {})
    assert isinstance(cmd_table, dict)
    for name, items in cmd_table.items():
        for cmd in _str_list(items):
            commands[fold(cmd)] = str(name)
    numbers = data.get("numbers", {})
    assert isinstance(numbers, dict)
    patterns: list[tuple[str, str, tuple[object, ...]]] = []
    pattern_table = data.get("patterns", {})
    assert isinstance(pattern_table, dict)
    for cat, table in pattern_table.items():
        if cat != "intent" and cat not in CUE_CATEGORIES and cat not in VALUED_CATEGORIES:
            raise ValueError(f"{lang}.json: unknown pattern category {cat!r}")
        assert isinstance(table, dict)
        for value, specs in table.items():
            assert isinstance(specs, list)
            for spec in specs:
                words = _as_phrases(spec)
                if words is None:
                    patterns.append((str(cat), str(value), tuple(spec)))
                else:
                    # A pattern of plain word choices is a list of phrases: the PhraseMatcher
                    # finds them in its one pass, and the Matcher need not run for them.
                    phrases.extend((str(cat), str(value), w) for w in words)
    return Lexicon(
        code=str(data["code"]),
        spacy=str(data.get("spacy", data["code"])),
        decimal_mark=str(data.get("decimal_mark", ".")),
        group_marks=tuple(_str_list(data.get("group_marks", [","]))),
        number_words=str(data.get("number_words", "none")),
        commands=commands,
        phrases=tuple(phrases),
        detect=frozenset(fold(w) for w in _str_list(data.get("detect", []))),
        numbers={str(k): v for k, v in numbers.items()},
        patterns=tuple(patterns),
        number_hint=tuple(fold(x) for x in _str_list(data.get("number_hint", []))),
        slang=_slang(data.get("slang", {})),
        note_suffixes=tuple(fold(x) for x in _str_list(data.get("note_suffixes", []))),
        symbol_suffixes=tuple(sorted((fold(x) for x in _str_list(data.get("symbol_suffixes", []))), key=len, reverse=True)),
    )


def _as_phrases(spec: object, limit: int = 4096) -> list[str] | None:
    """The phrases a token pattern stands for, when each token is a NORM word or a list of them
    (optionally "?"), and there are at most `limit`; None for any other pattern."""
    assert isinstance(spec, list)
    out = [""]
    for tok in spec:
        if not isinstance(tok, dict) or not set(tok) <= {"NORM", "OP"} or tok.get("OP") not in (None, "?"):
            return None
        norm = tok.get("NORM")
        if isinstance(norm, str):
            choices = [norm]
        elif isinstance(norm, dict) and set(norm) == {"IN"} and isinstance(norm["IN"], list):
            choices = [str(v) for v in norm["IN"]]
        else:
            return None
        if tok.get("OP") == "?":
            choices = [*choices, ""]
        out = [f"{a} {b}".strip() for a in out for b in choices]
        if len(out) > limit:
            return None
    return [w for w in out if w]


def _slang(table: object) -> dict[str, str]:
    """Chat spellings -> the word the data is written with ("u" -> "you"), both folded."""
    assert isinstance(table, dict), table
    return {fold(str(k)): fold(str(v)) for k, v in table.items()}


def decimal_value(text: str) -> Decimal:
    """A value string of the data files as a Decimal."""
    return Decimal(text)
