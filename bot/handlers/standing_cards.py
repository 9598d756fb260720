"""The card of a standing order: a send, buy or sell with a recurrence or a date wrapped as one series
(the payments and trading rooms call `wrap` before proposing; it imports neither of them)."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from bot.app import App
from bot.context import Ctx
from bot.models import User
from bot.payloads import Send
from bot.payloads.base import Payload, from_dict
from bot.standing import store
from bot.standing.ends import read_end
from bot.standing.payload import Standing
from intents.model import Intent


def user_tz(app: App, user: User) -> str:
    """The person's time zone: theirs (/tz), else the setting."""
    return user.tz or app.settings.default_timezone


def wrap(app: App, c: Ctx, intent: Intent, payload: Payload) -> Payload:
    """A send, buy or sell with a recurrence or a date becomes a standing order of it (one card, one confirmation)."""
    rule = intent.recurrence or None
    when = intent.when or None
    if not rule and not when:
        return payload
    if isinstance(payload, Send):
        payload = replace(payload, recurrence=None, when=None)
    end = read_end(c.ev.text or "", c.now.date())
    tz = user_tz(app, c.user)
    standing = Standing(inner=payload, rule=rule, when=when, tz=tz, hour=app.settings.schedule_local_hour,
                        count=end.count, until=end.until, created=c.now)
    old = _same_series(c.s, c.uid, payload, rule)
    if old is not None:
        standing = replace(standing, replaces=old)
    return standing


def _same_series(s: Session, user_id: int, payload: Payload, rule: str | None) -> int | None:
    """A live standing order this one changes (a new amount, say): the same rhythm, kind and payees (a send) or
    instrument (a trade). Confirming the new card stops the old one; until then the old one runs as it was."""
    for item in store.live(s, user_id):
        if rule is None or item.row.rrule != rule:
            continue
        inner = from_dict(item.payload["inner"]) if "inner" in item.payload else from_dict(item.payload)
        if inner.kind != payload.kind:
            continue
        if isinstance(inner, Send) and isinstance(payload, Send):
            if {leg.to_user or leg.handle for leg in inner.legs} == {leg.to_user or leg.handle for leg in payload.legs}:
                return item.row.id
        elif getattr(inner, "symbol", None) == getattr(payload, "symbol", None):
            return item.row.id
    return None
