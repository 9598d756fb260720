"""Message catalogues (gettext .po files read with Babel) and locale-aware money and date formatting."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

LANGS = ("en", "nb", "fr")
LOCALES = {"en": "en_US", "nb": "nb_NO", "fr": "fr_FR"}
LANG_NAMES = {"en": "English", "nb": "Norsk", "fr": "Français"}


def normalize_lang(code: str | None, default: str = "en") -> str:
    """Map a client language code (IETF, e.g. 'nb-NO', 'no', 'fr-CA') to one of en, nb, fr."""
    if not code:
        return default
    base = code.replace("_", "-").split("-")[0].lower()
    if base in ("nb", "no", "nn"):
        return "nb"
    if base in LANGS:
        return base
    return default


@cache
def _read(lang: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]], Callable[[int], int]]:
    """One language's messages, its plural messages (singular msgid -> forms) and its plural rule."""
    if lang == "en":
        return {}, {}, _english_plural
    path = resources.files("bot").joinpath(f"locale/{lang}.po")
    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
    except FileNotFoundError:
        return {}, {}, _english_plural
    out: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy or not message.string:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(str(f) for f in message.string)
            if all(forms):
                plurals[str(message.id[0])] = forms
        elif isinstance(message.id, str):
            out[message.id] = str(message.string)
    return out, plurals, gettext.c2py(catalog.plural_expr)


def _english_plural(n: int) -> int:
    return 0 if n == 1 else 1


def _catalog(lang: str) -> dict[str, str]:
    return _read(lang)[0]


def t(lang: str, msgid: str, /, **values: object) -> str:
    """The message `msgid` in `lang` (English when untranslated), with `{placeholders}` filled in."""
    text = _catalog(lang).get(msgid, msgid)
    return _fill(text, msgid, values)


def tn(lang: str, singular: str, plural: str, n: int, /, **values: object) -> str:
    """A message with plural forms (gettext's ngettext): `singular` or `plural` in English, the form the
    language's Plural-Forms rule picks for `n` otherwise; `{n}` and the other placeholders filled in."""
    _, plurals, rule = _read(lang)
    forms = plurals.get(singular)
    english = singular if n == 1 else plural
    if forms is None:
        text = english
    else:
        index = rule(n)
        text = forms[index] if 0 <= index < len(forms) else forms[-1]
    return _fill(text, english, {"n": n, **values})


def _fill(text: str, fallback: str, values: dict[str, object]) -> str:
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return fallback.format(**values)
    return text


def fmt_money(amount: Decimal, currency: str, lang: str) -> str:
    """An amount formatted as people of `lang` write it: $20.00, 200,00 kr, 20,00 €."""
    return format_currency(amount, currency, locale=LOCALES.get(lang, "en_US"))


def fmt_number(value: Decimal, lang: str) -> str:
    """A plain decimal number in the locale's notation."""
    return format_decimal(value, format="#,##0.#########", locale=LOCALES.get(lang, "en_US"))


def fmt_date(value: date, lang: str) -> str:
    """A date in the locale's medium format."""
    return format_date(value, format="medium", locale=LOCALES.get(lang, "en_US"))


def fmt_datetime(value: datetime, lang: str) -> str:
    """A date and time in the locale's short format, in UTC and saying so ("11/18/26, 3:00 PM UTC")."""
    when = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return format_datetime(when, format="short", tzinfo=UTC, locale=LOCALES.get(lang, "en_US")) + " UTC"
