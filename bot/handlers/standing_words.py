"""Pausing and resuming a standing order by words ("pause my weekly payment to @mom", "resume paying @mom",
"sett den faste betalingen til @ola på pause", "suspends le virement mensuel à @lea", "reprends ..."). The
contract's `unschedule` intent says stop; pause and resume are read here as that intent with another verb:
the same words find the order (asking which when several match), and the order keeps its rhythm."""

from __future__ import annotations

import re

from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.handlers import standing
from bot.i18n import t
from bot.standing import store
from bot.standing.payload import when_text
from intents import parse
from intents.model import Intent

PAUSE = re.compile(r"^\s*(?:pause|paus|sett\s+på\s+pause|suspends?|suspendre|mets\s+en\s+pause|mettre\s+en\s+pause)\b",
                   re.IGNORECASE)
RESUME = re.compile(r"^\s*(?:resume|restart|unpause|gjenoppta|start\s+igjen|reprends?|reprendre|relance)\b",
                    re.IGNORECASE)
AT_END = re.compile(r"\s+på\s+pause\s*[.!]?\s*$", re.IGNORECASE)  # nb: "sett ... på pause"
SETT = re.compile(r"^\s*sett\b", re.IGNORECASE)
STOP_WORD = {"en": "stop", "nb": "stopp", "fr": "arrête"}


def register(bus: Bus) -> None:
    bus.readers.append(read_pause)


def read_pause(app: App, c: Ctx, text: str, intent: Intent) -> bool:
    """True when `text` pauses or resumes a standing order (handled here); False leaves it to the intent."""
    if intent.intent not in ("none", "unschedule"):
        return False
    m = RESUME.match(text) or PAUSE.match(text)
    if m is None and AT_END.search(text):
        m = SETT.match(text)  # nb: "sett den faste betalingen til @ola på pause"
    if m is None:
        return False
    resume = RESUME.match(text) is not None
    rest = AT_END.sub("", text[m.end():])
    again = parse(f"{STOP_WORD.get(c.lang, 'stop')} {rest}", now=c.now, hint_lang=c.lang, directory=app.instruments)
    if again.intent != "unschedule":
        return False
    kind = "buy" if again.symbol and not again.recipients else None
    found = [item for item in store.matching(c.s, c.uid, recipients=tuple(again.recipients), symbol=again.symbol,
                                             rule=again.recurrence, kind=kind)
             if (item.row.status == "paused") == resume]
    if not found:
        c.say(t(c.lang, "No standing order of yours matches that. /schedules lists them."))
        return True
    if len(found) > 1:
        c.say(t(c.lang, "Several standing orders match. Which one? Press Pause or Resume on it:"))
        for item in found:
            c.say(standing.line(c.lang, item), buttons=standing.buttons(app, c.s, c.lang, item.row, c.now))
        return True
    sid = found[0].row.id or 0
    if resume:
        row = store.resume(c.s, c.uid, sid, c.now)
        nxt = row.next_run
        c.say(t(c.lang, "Resumed: standing order #{n} runs next on {when}.", n=sid,
                when=when_text(nxt, row.tz, c.lang)) if nxt
              else t(c.lang, "Standing order #{n} has no run left.", n=sid))
    else:
        store.pause(c.s, c.uid, sid)
        c.say(t(c.lang, "Paused: standing order #{n} will not run until you resume it.", n=sid))
    return True
