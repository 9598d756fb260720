"""parse(): a chat message to an Intent, deterministic, asking back (clarify) rather than guessing."""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal
from functools import cache

from intents import wave2
from intents.amounts import Money, free_currencies, presplit, read_money
from intents.dates import TimeReading, read_time
from intents.directory import InstrumentDirectory, load_directory
from intents.handles import is_bot, read_counterparties
from intents.items import NO_CATS, Item, build_items
from intents.lang import detect
from intents.lexicon import common, lexicon
from intents.model import MONEY_INTENTS, PAYMENT_INTENTS, AmountParse, Intent
from intents.normalize import fold, normalize
from intents.notes import read_note
from intents.numwords import words_to_digits
from intents.pipeline import pipeline, read, reading, symbol_matcher
from intents.trades import read_symbol, read_trade
from intents.wave2 import WAVE2
from intents.wave2 import names_a_schedule as _names_a_schedule

_SLASH = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?=[\s,.:!?]|$)")
NOMINAL = frozenset({"balance", "history", "portfolio", "quote", "help", "cancel", "schedules", "debts"})
_VETO = ("past", "narr", "question", "neg")
_NOT_A_BARE_PAYMENT = ("intent", "past", "narr", "question", "neg", "thing", "self")
MAX_CHARS = 4096  # Telegram's longest message; the rest of a longer text is not read.
_LONG_RUN = re.compile(r"\S{48}")  # no word, handle or amount is this long: cut such runs


def _cut_long_runs(text: str) -> str:
    """Spaces into runs of 48+ non-space characters, which spaCy's affix rules read in quadratic time."""
    if len(text) < 48 or _LONG_RUN.search(text) is None:
        return text
    return _LONG_RUN.sub(lambda m: m.group(0) + " ", text)


def _command(name: str, lang: str | None) -> tuple[str | None, str | None]:
    """The intent of a slash command, looked up first in `lang`, then in every language."""
    langs = common().languages
    order = ([lang] if lang in langs else []) + [x for x in langs if x != lang]
    for code in order:
        intent = lexicon(code).commands.get(name)
        if intent is not None:
            return intent, code
    return None, None


def _choose(items: list[Item], cmd_intent: str | None, timed: set[int]) -> tuple[str, int, str | None]:
    """(intent, index of the word that said it or -1, clarify) from the items' order and cues."""
    if cmd_intent is not None:
        return cmd_intent, -1, None
    n = len(items)
    i = 0
    while i < n:
        it = items[i]
        if it.kind == "punct" or is_bot(it) or i in timed:
            i += 1
            continue
        if "intent" in it.cats:
            intent = it.cats["intent"]
            j = i + 1
            if j + 1 < n and "or" in items[j].cats and "intent" in items[j + 1].cats and items[j + 1].cats["intent"] != intent:
                return intent, i, "ambiguous_intent"
            return intent, i, None
        if "neg" in it.cats:
            return "none", -1, None
        if it.kind == "phrase" and "acquire" in it.cats:
            # "get me 4 shares of amazon", "skaff meg 4 aksjer": a buy when shares or an
            # instrument follow and no other command word does ("get me the price of AAPL").
            rest = items[i + 1 :]
            if not any("intent" in x.cats for x in rest) and any("shares" in x.cats or "sym" in x.cats for x in rest):
                return "buy", i, None
            i += 1
            continue
        if it.kind == "phrase" and "pre" in it.cats:
            i += 1
            continue
        if it.kind == "phrase" and "reply" in it.cats and i + 1 < n and "intent" in items[i + 1].cats:
            # A French clitic before its verb: "peux-tu lui envoyer 20 €".
            i += 1
            continue
        break
    # No command up front: a question about balance, history, a price... unless it tells a story.
    seen_symbol = False
    for k, it in enumerate(items):
        if "intent" in it.cats and it.cats["intent"] in NOMINAL:
            return it.cats["intent"], k, None
        if "sym" in it.cats:
            seen_symbol = True
        elif not seen_symbol and it.kind == "phrase" and any(c in it.cats for c in _VETO):
            return "none", -1, None
    has_number = any(it.kind == "num" for it in items)
    has_party = any(it.kind == "handle" and not is_bot(it) for it in items)
    if has_number and has_party and not any(
        it.kind == "phrase" and any(c in it.cats for c in _NOT_A_BARE_PAYMENT) for it in items
    ):
        # "20 @anna", "@bob 15 eur?": send or request? Act on nothing, ask.
        return "none", -1, "ambiguous_intent"
    if any("sym" in it.cats for it in items) and not has_number and not has_party:
        # "AAPL?", "how's SPY doing today": a symbol and nothing that tells a story.
        if not any(
            it.kind == "word" or (it.kind == "phrase" and any(c in it.cats for c in _VETO)) for it in items
        ):
            return "quote", -1, None
    return "none", -1, None


def _amount(money: list[Money], free: list[str]) -> tuple[Decimal | None, str | None, str | None]:
    """(amount, currency, clarify) of a payment from its money readings."""
    if "?" in free:
        return None, None, "ambiguous_amount"
    currencies = {m.currency for m in money if m.currency is not None} | set(free)
    if not money:
        return None, (free[0] if len(set(free)) == 1 else None), "missing_amount"
    if len(money) > 1 or len(currencies) > 1:
        return None, (currencies.pop() if len(currencies) == 1 else None), "ambiguous_amount"
    m = money[0]
    currency = m.currency or (free[0] if free else None)
    if not m.ok:
        return None, currency, "ambiguous_amount"
    return m.value, currency, None


def _hyphen_symbol(word: str, single: dict[str, str]) -> str | None:
    """An instrument named in a hyphenated word: "equinor-aksjene", "dnb-appen"."""
    for part in word.split("-"):
        sym = single.get(part)
        if sym is not None:
            return sym
    return None


_KNOWN_SIGNS = frozenset("$€£")
_SIGNS: dict[str, bool] = {}


def _has_currency_sign(text: str) -> bool:
    """True for a word with a currency sign the data does not name ("¥", "R$", "₿")."""
    hit = _SIGNS.get(text)
    if hit is None:
        if text.lower() in ("us$", "$us", "usd$", "$usd"):
            hit = False
        else:
            signs = {ch for ch in text if unicodedata.category(ch) == "Sc"}
            hit = bool(signs) and (bool(signs - _KNOWN_SIGNS) or any(ch.isalpha() for ch in text))
        if len(_SIGNS) < 4096:
            _SIGNS[text] = hit
    return hit


# Coins written as codes: not ISO 4217, but money people may try to send.
_COINS = frozenset({"BTC", "XBT", "ETH", "USDT", "USDC", "SOL", "DOGE", "LTC", "XRP", "ADA", "BNB", "DOT", "XMR", "SATS"})


@cache
def _foreign_codes() -> frozenset[str]:
    """Codes of currencies the data does not read: every ISO 4217 code babel knows and a few
    coins, less the codes of common.json (those are read as themselves)."""
    from babel.numbers import list_currencies

    return frozenset(c.upper() for c in list_currencies()) - common().currency_codes | _COINS


def _currency_marks(items: list[Item], seen: set[str]) -> None:
    """Currency marks the data does not read, and cashtags, retagged in place."""
    foreign = _foreign_codes()
    for k, it in enumerate(items):
        if it.kind == "phrase" and it.text == "$":
            if k + 1 < len(items) and items[k + 1].start == it.end and items[k + 1].text[:1].isalpha():
                # "$AAPL", "$tsla": a cashtag names the instrument; it is no dollar amount.
                it.kind, it.cats = "punct", NO_CATS
            continue
        if it.kind == "punct" or (it.kind == "word" and (not it.text.isascii() or "$" in it.text)):
            if _has_currency_sign(it.text):
                # "¥500", "₹300", "R$5", "₩5000": a currency the bot cannot name. Ask, never
                # read it as the default currency.
                it.kind = "phrase"
                it.cats = {"cur": "?"}
                seen.add("cur")
        elif it.kind == "phrase" and it.upper and it.cats.keys() == {"tickerlike"} and it.text in foreign and _next_to_number(items, k):
            # "5 BTC", "300 INR": a currency code (ISO 4217 or a coin) the data does not read.
            it.cats = {"cur": "?"}
            seen.add("cur")


def _coded(items: list[Item], m: Money) -> bool:
    """An unknown capitals word right before or after an amount: a currency code we cannot read."""
    for k in (m.first - 1, m.last + 1):
        if 0 <= k < len(items) and items[k].kind == "phrase" and items[k].cats.keys() == {"tickerlike"}:
            prev = items[k - 1] if k > 0 else None
            if prev is not None and "cur" in prev.cats and prev.end == items[k].start:
                continue  # "0,01 £GB", "$US": the country letters of a sign the data reads
            return True
    return False


def _next_to_number(items: list[Item], k: int) -> bool:
    return (k > 0 and items[k - 1].kind == "num") or (k + 1 < len(items) and items[k + 1].kind == "num")


_BARE: dict[tuple[str, str, str | None, str | None], Intent] = {}


def bare(intent: str, lang: str, clarify: str | None = None, currency: str | None = None) -> Intent:
    """An Intent with no slots but these (shared: Intents are immutable)."""
    key = (intent, lang, clarify, currency)
    hit = _BARE.get(key)
    if hit is None:
        hit = Intent(intent, lang, currency=currency, clarify=clarify)
        if len(_BARE) < 4096:
            _BARE[key] = hit
    return hit


def _counts_ways(items: list[Item], m: Money) -> bool:
    """ "split 90 3 ways": a number of parts, not an amount."""
    nxt = m.last + 1
    return m.currency is None and nxt < len(items) and "ways" in items[nxt].cats


_TIMES = frozenset({"times", "ganger", "gang", "fois"})


def _counts_times(items: list[Item], m: Money) -> bool:
    """ "every monday send @mom 50 10 times": how many times a standing order runs, not an amount."""
    nxt = m.last + 1
    return m.currency is None and nxt < len(items) and items[nxt].norm in _TIMES


def _send_or_request(items: list[Item], trigger: int) -> str:
    """ "send anna a request for 20", "pay me 20 @anna": the user asks to be paid."""
    n = len(items)
    if trigger >= 0 and "request_carrier" in items[trigger].cats:
        for it in items[trigger + 1 :]:
            if "for" in it.cats:
                break
            if "request_noun" in it.cats:
                return "request"
    after = trigger + 1
    if 0 <= trigger and after < n and "self" in items[after].cats and "reply" not in items[after].cats:
        has_number = any(it.kind == "num" for it in items)
        has_party = any(it.kind == "handle" or "reply" in it.cats for it in items[after + 1 :])
        if has_number and has_party:
            return "request"
    return "send"


def _not_money(items: list[Item], trigger: int, seen: set[str]) -> bool:
    """Sending things that are not money: "send 2 photos to @anna", "send me the pdf"."""
    if "cur" in seen:
        return False
    if "thing" in seen:
        return True
    after = trigger + 1
    if after < len(items) and "self" in items[after].cats and "reply" not in items[after].cats:
        return not any(it.kind == "num" for it in items)
    return False


class Reader:
    """One message read in one language against one directory and one `now`."""

    def __init__(
        self, lang: str, directory: InstrumentDirectory, now: datetime.datetime, reply: bool | None = None
    ) -> None:
        self.lang = lang
        self.reply = reply
        self.directory = directory
        self.today = now.date() if isinstance(now, datetime.datetime) else now

    def items(self, text: str) -> tuple[str, list[Item], set[str]]:
        """The prepared text and its items."""
        lex = lexicon(self.lang)
        prepared = presplit(words_to_digits(text, self.lang)) if text else text
        doc = read(pipeline(self.lang), prepared)
        found = reading(doc)
        symbols = symbol_matcher(self.lang, self.directory)
        symbols.tag(doc, found)
        items, seen = build_items(prepared, found, lex.decimal_mark, lex.group_marks, symbols.exact)
        glued = symbols.glued(lex.symbol_suffixes)
        note_suffixes = lex.note_suffixes
        if "$" in prepared or not prepared.isascii() or "tickerlike" in seen:
            _currency_marks(items, seen)
        for it in items:
            if it.kind != "word":
                continue
            norm = it.norm
            if note_suffixes and norm.endswith(note_suffixes) and it.text.isalpha():
                # "strømregningen", "hyttetur": a compound whose head is a purpose, not a name.
                it.kind = "phrase"
                it.cats = {"note_word": ""}
                seen.add("note_word")
                continue
            sym = glued.get(norm)
            if sym is None and "-" in norm:
                sym = _hyphen_symbol(norm, symbols.single)
            if sym is not None:
                it.kind = "phrase"
                it.cats = {"sym": sym}
                seen.add("sym")
        return prepared, items, seen

    def read(self, text: str, cmd_intent: str | None, slash: bool) -> Intent:
        """The Intent of a message body (after any slash command)."""
        source, items, seen = self.items(text)
        lang = self.lang
        time = read_time(items, self.today, seen)
        intent, trigger, clarify = _choose(items, cmd_intent, time.used)
        if intent == "send" and cmd_intent is None:
            intent = _send_or_request(items, trigger)
        if intent in PAYMENT_INTENTS and cmd_intent is None and _not_money(items, trigger, seen):
            intent = "none"
        if intent == "none":
            return bare("none", lang, clarify)
        if intent == "cancel" and _names_a_schedule(items, time, seen):
            # "cancel my weekly VOO buy", "avbryt den faste betalingen til @ola": a standing order.
            intent = "unschedule"
        if intent not in MONEY_INTENTS and intent != "unschedule":
            time = TimeReading()
        used = set(time.used)
        if trigger >= 0:
            used.add(trigger)
        if intent in PAYMENT_INTENTS or intent in ("deposit", "withdraw", "collect", "tip"):
            return self._payment(intent, source, items, used, trigger, slash, time, clarify, seen)
        if intent in WAVE2:
            return wave2.read(self, intent, source, items, used, trigger, time, clarify, seen)
        if intent in ("buy", "sell"):
            return self._trade(intent, items, used, trigger, time, clarify)
        if intent == "quote":
            symbol, unknown, several = read_symbol(items, used, trigger + 1)
            return Intent(
                "quote",
                lang,
                symbol=symbol,
                clarify=clarify or ("unknown_symbol" if symbol is None else None),
            )
        if intent == "balance":
            money = read_money(items, used)
            free = free_currencies(items, money, used) if "cur" in seen else []
            currency = free[0] if len(set(free)) == 1 and free[0] != "?" else None
            return bare("balance", lang, clarify, currency)
        return bare(intent, lang, clarify)

    def _payment(
        self,
        intent: str,
        source: str,
        items: list[Item],
        used: set[int],
        trigger: int,
        slash: bool,
        time: TimeReading,
        clarify: str | None,
        seen: set[str],
    ) -> Intent:
        lang = self.lang
        recipients: list[str] = []
        note: str | None = None
        doubtful = False
        taken = set(used)
        if intent == "collect" and ("for" in seen or "note_word" in seen):
            # "cagnotte de 15 € pour le cadeau de @lea": whoever the purpose names is no payer.
            note, note_span = read_note(source, items, taken)
            taken |= note_span
            if note_span:
                start = min(note_span)
                taken |= {k for k in range(start, len(items)) if items[k].kind == "handle"}
        if intent in PAYMENT_INTENTS or intent in ("collect", "tip"):
            anchors = [trigger + 1] if trigger >= 0 or slash else []
            cp = read_counterparties(items, taken, anchors)
            recipients, doubtful = cp.recipients, cp.doubtful
            taken |= cp.claimed
            if intent != "collect" and ("for" in seen or "note_word" in seen):
                note, note_span = read_note(source, items, taken)
                taken |= note_span
        if intent == "tip" and not recipients and not doubtful and self.reply is not False:
            # "tip 2" as a reply: the author of the replied-to message.
            recipients = ["reply"]
        money = [m for m in read_money(items, taken) if not m.pct and not _counts_ways(items, m)
                 and not (time.recurrence and _counts_times(items, m))]
        free = free_currencies(items, money, taken) if "cur" in seen else []
        amount, currency, amount_clarify = _amount(money, free)
        if amount_clarify is None and "tickerlike" in seen and any(_coded(items, m) for m in money):
            # "send 5 XYZ to @bob": a code next to the amount that the data cannot name. Ask.
            amount, amount_clarify = None, "ambiguous_amount"
        if clarify is None:
            clarify = amount_clarify
        if self.reply is False and "reply" in recipients:
            # "send 20 to her" in a message that replies to no one: who is "her"? Ask.
            recipients = [r for r in recipients if r != "reply"]
            doubtful = True
        if clarify is None and (intent in PAYMENT_INTENTS or intent == "tip") and (not recipients or doubtful):
            clarify = "missing_recipient"
        if clarify is None and intent == "collect" and doubtful:
            clarify = "missing_recipient"
        return Intent(
            intent,
            lang,
            amount=amount,
            currency=currency,
            recipients=tuple(recipients),
            recurrence=time.recurrence,
            when=time.when,
            note=note,
            clarify=clarify,
        )

    def _trade(
        self,
        intent: str,
        items: list[Item],
        used: set[int],
        trigger: int,
        time: TimeReading,
        clarify: str | None,
    ) -> Intent:
        money = read_money(items, used)
        trade = read_trade(items, used, money, trigger + 1)
        if (
            trade.symbol is None
            and not trade.several
            and not money
            and not any("tickerlike" in it.cats or "shares" in it.cats or "frac" in it.cats for it in items)
        ):
            # "buy a new phone", "kjøpe ny telefon": not an order for an instrument.
            if any(it.kind == "word" for it in items):
                return bare("none", self.lang)
        if clarify is None:
            if trade.ambiguous:
                clarify = "ambiguous_amount"
            elif trade.symbol is None:
                clarify = "unknown_symbol"
            elif trade.quantity is None and trade.notional is None and trade.fraction is None:
                # "buy AAPL when it drops to 140": a price but no size. Never a size of 140.
                clarify = "missing_quantity" if trade.limit_price is not None else "missing_amount"
        return Intent(
            intent,
            self.lang,
            currency=trade.currency,
            symbol=trade.symbol,
            quantity=trade.quantity if not trade.ambiguous else None,
            notional=trade.notional if not trade.ambiguous else None,
            fraction=trade.fraction if not trade.ambiguous else None,
            limit_price=trade.limit_price,
            recurrence=time.recurrence,
            when=time.when,
            clarify=clarify,
        )


_CODES: dict[str, str] = {}


def _language(lang: str | None) -> str | None:
    if lang is None:
        return None
    hit = _CODES.get(lang)
    if hit is not None:
        return hit
    code = lang.lower().replace("_", "-").split("-")[0]
    if code == "no" or code == "nn":
        code = "nb"
    if code not in common().languages:
        raise ValueError(f"unsupported language {lang!r}; one of {', '.join(common().languages)}")
    if len(_CODES) < 256:
        _CODES[lang] = code
    return code


def parse(
    text: str,
    *,
    lang: str | None = None,
    now: datetime.datetime,
    directory: InstrumentDirectory | None = None,
    hint_lang: str | None = None,
    reply: bool | None = None,
) -> Intent:
    """Read a chat message as an Intent. `lang` forces the language; otherwise it is detected
    among en/nb/fr with `hint_lang` (the client's language) breaking ties. `reply` says whether
    the message replies to someone's message: False makes "him/her" ask who
    (`missing_recipient`) instead of naming the payee `"reply"`; None (not known) reads them as
    `"reply"`, which the engine resolves against the replied-to message or asks."""
    code = _language(lang)
    hint = None
    if hint_lang:
        try:
            hint = _language(hint_lang)
        except ValueError:
            hint = None
    body = _cut_long_runs(normalize(text[: MAX_CHARS * 2])[:MAX_CHARS])
    cmd_intent: str | None = None
    cmd_lang: str | None = None
    slash = False
    m = _SLASH.match(body) if body.startswith("/") else None
    if m is not None:
        slash = True
        cmd_intent, cmd_lang = _command(fold(m.group(1)), code or hint)
        body = body[m.end() :].strip()
        if cmd_intent is None:
            return bare("none", code or cmd_lang or detect(body, hint))
        if not body and cmd_intent in NOMINAL and cmd_intent != "quote":
            return bare(cmd_intent, code or cmd_lang or hint or common().languages[0])
    if code is None:
        code = detect(body, hint, cmd_lang)
    if cmd_intent is None and FAST_PATH:
        # Fast path: a whole message that is one of the data's phrases for a slot-less intent
        # ("balance", "mon solde", "avbryt"): the full reading would give the same.
        table = whole_phrases(code)
        if len(body) <= _LONGEST_PHRASE and _NOT_IN_PHRASES.search(body) is None:
            hit = table.get(phrase_key(body))
            if hit is not None:
                return bare(hit, code)
    reader = Reader(code, directory if directory is not None else load_directory(), now, reply)
    return reader.read(body, cmd_intent, slash)


FAST_PATH = True
_LONGEST_PHRASE = 48  # characters; longer messages never equal a slot-less phrase
_KEY_WORDS = re.compile(r"[^\W_]+")
_NOT_IN_PHRASES = re.compile(r"[\d@$€£]")
_SLOTLESS = frozenset({"balance", "history", "portfolio", "help", "cancel", "schedules", "debts", "settle"})


def phrase_key(text: str) -> str:
    """A message or phrase reduced to its folded words, for the whole-message table."""
    words = _KEY_WORDS.findall(text.lower())
    if not text.isascii():
        words = [w if w.isascii() else fold(w) for w in words]
    return " ".join(words)


@cache
def whole_phrases(lang: str) -> dict[str, str]:
    """Phrase key -> intent, for the data's phrases of intents that take no slot."""
    table: dict[str, str] = {}
    clash: set[str] = set()
    for cat, value, phrase in lexicon(lang).phrases:
        if cat != "intent" or value not in _SLOTLESS:
            continue
        key = phrase_key(phrase)
        if key in table and table[key] != value:
            clash.add(key)
        table.setdefault(key, value)
    for key in clash:
        del table[key]
    return table


def parse_amount(text: str, lang: str) -> AmountParse | None:
    """An answer to "how much?" ("20", "20,50 kr", "$1,000"), or None when it holds no amount."""
    code = _language(lang) or "en"
    body = _cut_long_runs(normalize(text[: MAX_CHARS * 2])[:MAX_CHARS])
    reader = Reader(code, load_directory(), datetime.datetime(2000, 1, 1))
    _source, items, _seen = reader.items(body)
    money = [m for m in read_money(items, set()) if not m.pct]
    if not money:
        return None
    free = free_currencies(items, money, set())
    first = money[0]
    unknown = "?" in free or _coded(items, first)
    currency = first.currency or (free[0] if len(set(free)) == 1 and not unknown else None)
    clarify = None if first.ok and len(money) == 1 and not unknown else "ambiguous_amount"
    return AmountParse(first.value, currency, clarify)
