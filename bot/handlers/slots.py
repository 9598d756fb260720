"""Slot filling: a question back when the parser is unsure ("How much?", "To whom?"), and the answer fitted in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.handlers import state
from bot.i18n import t
from intents import parse, parse_amount
from intents.model import DECIMAL_KEYS, Intent

SLOT_INTENTS = ("send", "request", "split", "deposit", "withdraw", "buy", "sell")  # what a filled slot may lead to


def register(bus: Bus) -> None:
    bus.answers["slot"] = fill_slot


def intent_from_dict(data: dict[str, Any]) -> Intent:
    """An Intent back from its contract JSON (kept in a conversation while a slot is asked for)."""
    fields: dict[str, Any] = dict(data)
    for key in DECIMAL_KEYS:
        if fields.get(key) is not None:
            fields[key] = Decimal(str(fields[key]))
    fields["recipients"] = tuple(fields.get("recipients") or ())
    if fields.get("when"):
        fields["when"] = date.fromisoformat(fields["when"])
    return Intent(**fields)


def on_intent(app: App, c: Ctx, intent: Intent) -> None:
    """The intent a filled slot completed, to its handler."""
    handler = app.bus.intents.get(intent.intent) if intent.intent in SLOT_INTENTS else None
    if handler is not None:
        handler(app, c, intent)


def clarify(app: App, c: Ctx, intent: Intent) -> None:
    """Ask back for what the parser could not tell (its clarify code), remembering the intent so far."""
    code = intent.clarify
    if code in ("missing_amount", "ambiguous_amount") and intent.intent in ("send", "request", "split", "deposit", "withdraw"):
        state.set(c, {"await": "slot", "slot": "amount", "chat": c.ev.chat.chat_id,
                            "intent": intent.to_json_dict()})
        if code == "ambiguous_amount":
            c.say(t(c.lang, "I'm not sure about the amount. How much exactly? For example 1000 or 1.50."))
        else:
            c.say(t(c.lang, "How much?"))
        return
    if code == "missing_recipient":
        state.set(c, {"await": "slot", "slot": "recipient", "chat": c.ev.chat.chat_id,
                            "intent": intent.to_json_dict()})
        c.say(t(c.lang, "To whom? Write their @username."))
        return
    if code == "unknown_symbol":
        if intent.intent in ("buy", "sell"):
            state.set(c, {"await": "slot", "slot": "symbol", "chat": c.ev.chat.chat_id,
                                "intent": intent.to_json_dict()})
        c.say(t(c.lang, "I don't know that stock. Try a ticker like AAPL, EQNR or MC."))
        return
    if code in ("missing_quantity", "missing_amount") and intent.intent in ("buy", "sell"):
        state.set(c, {"await": "slot", "slot": "quantity", "chat": c.ev.chat.chat_id,
                            "intent": intent.to_json_dict()})
        c.say(t(c.lang, "How many shares, or how much money? For example \"buy 2 {symbol}\" or \"buy $100 of {symbol}\".",
                symbol=intent.symbol or "AAPL"))
        return
    c.say(t(c.lang, "I'm not sure what you want to do. Try \"send $20 to @anna\" or \"request $20 from @anna\"."))


def fill_slot(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """Fill the slot the bot asked for with an answer that fits it. A message that is a command of
    its own replaces the question (False: the caller handles it as new); anything else asks again."""
    saved = dict(st["intent"])
    slot = st["slot"]
    if not slot_answer(app, c, slot, text, saved):
        full = parse(text, now=c.now, hint_lang=c.lang, directory=app.instruments, reply=c.ev.reply_to is not None)
        if full.intent != "none":
            state.set(c, None)
            c.say(t(c.lang, "OK, I dropped my earlier question."))
            return False
        if slot == "amount":
            c.say(t(c.lang, "Write just the amount, e.g. 20 or 20.50, or /cancel."))
        elif slot == "recipient":
            c.say(t(c.lang, "Write their @username, or /cancel."))
        elif slot == "symbol":
            c.say(t(c.lang, "Write just the ticker, e.g. AAPL, or /cancel."))
        else:
            c.say(t(c.lang, "Write just the number of shares, e.g. 2, or an amount like $100, or /cancel."))
        return True
    if saved.get("clarify") == "ambiguous_answer":
        c.say(t(c.lang, "I'm not sure about the amount. How much exactly? For example 1000 or 1.50."))
        return True
    saved["clarify"] = None
    state.set(c, None)
    intent = intent_from_dict(saved)
    if intent.intent in ("buy", "sell"):
        if intent.symbol is None:
            clarify(app, c, intent_from_dict({**saved, "clarify": "unknown_symbol"}))
        elif intent.quantity is None and intent.notional is None and intent.fraction is None:
            clarify(app, c, intent_from_dict({**saved, "clarify": "missing_quantity"}))
        else:
            on_intent(app, c, intent)
        return True
    if intent.amount is None and intent.intent in ("send", "request", "split", "deposit", "withdraw"):
        clarify(app, c, intent_from_dict({**saved, "clarify": "missing_amount"}))
        return True
    if not intent.recipients and intent.intent in ("send", "request", "split"):
        clarify(app, c, intent_from_dict({**saved, "clarify": "missing_recipient"}))
        return True
    on_intent(app, c, intent)
    return True


def slot_answer(app: App, c: Ctx, slot: str, text: str, saved: dict[str, Any]) -> bool:
    """Put `text` into `saved` when it is just an answer to the slot asked for (True), else change nothing."""
    words = text.replace(",", " ").split()
    if slot == "recipient":
        handles = [w.lower() for w in words if w.startswith("@") and len(w) > 1]
        rest = [w for w in words if not w.startswith("@") and w.lower() not in ("and", "og", "et", "&")]
        if not handles or rest:
            return False
        saved["recipients"] = handles
        return True
    if slot == "symbol":
        if len(words) != 1:
            return False
        inst = app.instruments.get(words[0].upper()) if app.instruments is not None else None
        if inst is None:
            full = parse(text, now=c.now, hint_lang=c.lang, directory=app.instruments, reply=c.ev.reply_to is not None)
            if full.intent != "quote" or not full.symbol:
                return False
            saved["symbol"] = full.symbol
        else:
            saved["symbol"] = inst.symbol
        return True
    # amount or quantity: a bare amount, nothing that reads as a command of its own
    if parse(text, now=c.now, hint_lang=c.lang, directory=app.instruments, reply=c.ev.reply_to is not None).intent != "none":
        return False
    got = parse_amount(text, saved.get("lang") or c.lang)
    if got is None:
        return False
    if got.clarify:
        saved["clarify"] = "ambiguous_answer"
        return True
    if slot == "amount":
        saved["amount"] = str(got.amount)
        if got.currency:
            saved["currency"] = got.currency
    elif got.currency:
        saved["notional"], saved["quantity"] = str(got.amount), None
        saved["currency"] = got.currency
    else:
        saved["quantity"] = str(got.amount)
    return True


