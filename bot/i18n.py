"""Message catalogues (gettext .po files read with Babel) and locale-aware money and date formatting."""

from __future__ import annotations

from datetime import date, datetime
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
def _catalog(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    path = resources.files("bot").joinpath(f"locale/{lang}.po")
    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
    except FileNotFoundError:
        return {}
    out: dict[str, str] = {}
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
            out[message.id] = str(message.string)
    return out


def t(lang: str, msgid: str, /, **values: object) -> str:
    """The message `msgid` in `lang` (English when untranslated), with `{placeholders}` filled in."""
    text = _catalog(lang).get(msgid, msgid)
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return msgid.format(**values)
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
    """A date and time in the locale's short format."""
    return format_datetime(value, format="short", locale=LOCALES.get(lang, "en_US"))
