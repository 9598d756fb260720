"""Standing orders as people use them: the card of a series, the list with Pause / Resume / Stop, stopping
by words, /tz, /cancel's word on them, and the tick that runs each occurrence once and says how it went."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.events import Button, Reply, ReplyKind
from bot.execution import Outcome
from bot.handlers import escrow, execution, outcomes, state, tokens
from bot.handlers.standing_cards import user_tz
from bot.i18n import t, tn
from bot.models import Action, PressToken, Schedule, User
from bot.payloads import Send
from bot.payloads.base import Payload, from_dict
from bot.standing import runner, store
from bot.standing.models import Occurrence
from bot.standing.payload import Standing, when_text
from bot.standing.recurrence import UnknownZone, zone
from intents.model import Intent
from ledger.money import to_minor

AWAITING = ("awaiting_confirm", "awaiting_stepup")


def register(bus: Bus) -> None:
    bus.executors["standing"] = execute
    bus.after_record["standing"] = confirmed
    bus.intents["schedules"] = lambda app, c, intent: show_list(app, c)
    bus.commands["schedules"] = lambda app, c, arg: show_list(app, c)
    bus.intents["unschedule"] = stop_by_words
    bus.commands["tz"] = set_tz
    bus.presses["sched:"] = on_press
    for name, handler in list(bus.commands.items()):
        if name in ("cancel", "avbryt", "annuler", "annule"):
            bus.commands[name] = _cancel_wrapper(handler)
    if "cancel" in bus.intents:
        bus.intents["cancel"] = _cancel_wrapper(bus.intents["cancel"])
    if "portfolio" in bus.intents:
        bus.intents["portfolio"] = _portfolio_wrapper(bus.intents["portfolio"])
    bus.ticks.append(due)


def _portfolio_wrapper(prev: Callable[..., None]) -> Callable[..., None]:
    """The portfolio, then the open orders standing orders of trades will place ("open orders")."""
    def portfolio(app: App, c: Ctx, intent: Any) -> None:
        prev(app, c, intent)
        items = store.live(c.s, c.uid, kinds=("buy", "sell")) if c.private else []
        if not items:
            return
        lines = [t(c.lang, "Open orders (standing orders of trades):")]
        for item in items:
            row, inner = item.row, _inner(item.payload)
            nxt = (t(c.lang, "next {when}", when=when_text(item.next_runs[0], row.tz, c.lang)) if row.status == "active"
                   and item.next_runs else t(c.lang, "paused"))
            lines.append(f"  #{row.id} {inner.describe(c.lang).splitlines()[0]} ({nxt})")
        c.say("\n".join(lines), chat_id=c.user.private_chat_id or c.ev.chat.chat_id)
    return portfolio


# ---------------------------------------------------------------- the series confirmed


def execute(app: App, run_id: str, payload: Payload) -> Outcome:
    """Confirming a series moves nothing now: it becomes a schedule (each run executes later)."""
    return Outcome(True, "scheduled")


def confirmed(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome,
              now: datetime) -> list[Reply]:
    """The series confirmed: its schedule written (a change stops the one it replaces), the card says when it runs."""
    assert isinstance(payload, Standing)
    row = store.create(s, action_id=a.id, user_id=user.id or 0, kind=payload.inner.kind, payload=json.loads(a.payload),
                       rule=payload.rule, when=payload.when, end=payload.end, now=now, tz=payload.tz, hour=payload.hour)
    if payload.replaces is not None and row is not None:
        try:
            store.supersede(s, user.id or 0, payload.replaces, row, now)
        except store.NotYours:
            pass
    lang = user.lang
    text = t(lang, "Scheduled ✅") + "\n" + payload.describe(lang)
    if row is None:
        text = t(lang, "This standing order has no run left, so nothing was scheduled.")
    return outcomes.card_and_outcome(s, a, user, text)


# ---------------------------------------------------------------- the list


def _inner(item_payload: dict[str, Any]) -> Payload:
    return from_dict(item_payload["inner"]) if "inner" in item_payload else from_dict(item_payload)


def _line(lang: str, item: store.Listed) -> str:
    row, inner = item.row, _inner(item.payload)
    head = f"#{row.id} " + inner.describe(lang).splitlines()[0]
    lines = [head]
    if row.rrule and row.rrule != "FREQ=DAILY;COUNT=1":
        from bot.actions import describe_rrule

        lines.append(t(lang, "Repeats: {rule}", rule=describe_rrule(row.rrule, lang)))
    if row.status == "paused":
        lines.append(t(lang, "Paused."))
    elif item.next_runs:
        lines.append(t(lang, "Next run: {when}", when=when_text(item.next_runs[0], row.tz, lang)))
    if item.last_result is None:
        lines.append(t(lang, "Last result: not run yet."))
    elif item.last_result == "ok":
        lines.append(t(lang, "Last result: done."))
    else:
        lines.append(t(lang, "Last result: not done ({reason})", reason=outcomes.reason(item.last_result, lang)))
    return "\n".join(lines)


def _buttons(app: App, s: Session, lang: str, row: Schedule, now: datetime) -> tuple[tuple[Button, ...], ...]:
    def tok(choice: str) -> str:
        return tokens.raw_token(app, s, f"sched:{choice}", now=now, request_id=row.id, allowed=row.user_id,
                                single_use=True, lifetime=timedelta(days=7))

    first = (Button(t(lang, "Resume"), data=tok("resume")) if row.status == "paused"
             else Button(t(lang, "Pause"), data=tok("pause")))
    return ((first, Button(t(lang, "Stop"), data=tok("stop"))),)


def show_list(app: App, c: Ctx) -> None:
    """Each standing order with its next run, its last result and Pause / Resume / Stop (private chat only)."""
    items = store.live(c.s, c.uid)
    chat = c.user.private_chat_id or c.ev.chat.chat_id
    if not c.private:
        c.say(t(c.lang, "I sent your standing orders to our private chat."))
    if not items:
        c.say(t(c.lang, "You have no standing orders. Make one like \"every monday send @mom 50\"."), chat_id=chat)
        return
    c.say(tn(c.lang, "You have {n} standing order:", "You have {n} standing orders:", len(items), n=len(items)), chat_id=chat)
    for item in items:
        c.say(_line(c.lang, item), chat_id=chat, buttons=_buttons(app, c.s, c.lang, item.row, c.now))


def on_press(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    """Pause, Resume or Stop on a standing order in the list (only its owner's press counts)."""
    what = tok.choice.split(":", 1)[1]
    sid = tok.request_id or 0
    try:
        if what == "pause":
            row = store.pause(c.s, c.uid, sid)
            text = t(c.lang, "Paused: standing order #{n} will not run until you resume it.", n=sid)
        elif what == "resume":
            row = store.resume(c.s, c.uid, sid, c.now)
            nxt = row.next_run
            text = t(c.lang, "Resumed: standing order #{n} runs next on {when}.", n=sid,
                     when=when_text(nxt, row.tz, c.lang)) if nxt else t(c.lang, "Standing order #{n} has no run left.", n=sid)
        else:
            row = store.stop(c.s, c.uid, sid, c.now)
            text = t(c.lang, "Stopped: standing order #{n} will not run again.", n=sid)
    except store.NotYours:
        c.answer(t(c.lang, "That standing order is no longer there."))
        return
    if c.ev.press is not None:
        c.answer(t(c.lang, "OK"), alert=False)
        buttons = _buttons(app, c.s, c.lang, row, c.now) if row.status in store.LIVE else ()
        c.replies.append(Reply(ReplyKind.edit, c.ev.chat.chat_id, _line(c.lang, _listed(row)) + "\n" + text, buttons,
                               target_message_id=c.ev.press.message_id))
    else:
        c.say(text)


def line(lang: str, item: store.Listed) -> str:
    """A standing order's line in the list."""
    return _line(lang, item)


def buttons(app: App, s: Session, lang: str, row: Schedule, now: datetime) -> tuple[tuple[Button, ...], ...]:
    """Its Pause or Resume, and Stop."""
    return _buttons(app, s, lang, row, now)


def _listed(row: Schedule) -> store.Listed:
    from bot.clock import aware

    nxt = aware(row.next_run)
    return store.Listed(row, json.loads(row.payload), (nxt,) if nxt else (), row.last_result, aware(row.last_run_at))


# ---------------------------------------------------------------- stopping by words


def stop_by_words(app: App, c: Ctx, intent: Intent) -> None:
    """"stop paying @mom every monday": stop the one that matches; when several do, ask which (a Stop each)."""
    kind = "buy" if intent.symbol and not intent.recipients else None
    found = store.matching(c.s, c.uid, recipients=tuple(intent.recipients), symbol=intent.symbol,
                           rule=intent.recurrence, kind=kind)
    if not found:
        c.say(t(c.lang, "No standing order of yours matches that. /schedules lists them."))
        return
    if len(found) > 1:
        c.say(t(c.lang, "Several standing orders match. Which one? Press Stop on it:"))
        for item in found:
            c.say(_line(c.lang, item), buttons=_buttons(app, c.s, c.lang, item.row, c.now))
        return
    row = store.stop(c.s, c.uid, found[0].row.id or 0, c.now)
    c.say(t(c.lang, "Stopped: standing order #{n} will not run again.", n=row.id) + "\n" + _line(c.lang, _listed(row)))


# ---------------------------------------------------------------- /tz and /cancel


def set_tz(app: App, c: Ctx, arg: str) -> None:
    """`/tz Europe/Oslo`: the zone standing orders run in (new ones at the local hour)."""
    name = arg.strip()
    if not name:
        c.say(t(c.lang, "Your time zone is {tz}. Change it like this: /tz Europe/Oslo", tz=user_tz(app, c.user)))
        return
    try:
        zone(name)
    except UnknownZone:
        c.say(t(c.lang, "I don't know the time zone {tz}. Write it like Europe/Oslo or America/New_York.", tz=name))
        return
    c.user.tz = name
    c.s.add(c.user)
    c.say(t(c.lang, "Your time zone is now {tz}. New standing orders run at {hour}:00 there.", tz=name,
            hour=f"{app.settings.schedule_local_hour:02d}"))


def _cancel_wrapper(prev: Callable[..., None]) -> Callable[..., None]:
    def cancel(app: App, c: Ctx, arg: Any) -> None:
        waiting = state.get(c) is not None or c.s.exec(
            select(Action).where(Action.initiator_id == c.user.id, col(Action.status).in_(AWAITING))).first() is not None
        n = len(store.live(c.s, c.uid))
        if waiting or n == 0:
            prev(app, c, arg)
            return
        c.say(tn(c.lang, "No card is waiting, so there is nothing to cancel. /cancel does not stop standing orders: you have {n}. "
                 "Say \"stop paying @name\" or open /schedules to pause or stop it.",
                 "No card is waiting, so there is nothing to cancel. /cancel does not stop standing orders: you have {n}. "
                 "Say \"stop paying @name\" or open /schedules to pause or stop one.", n, n=n))
    return cancel


# ---------------------------------------------------------------- the tick


def policy(app: App) -> runner.Policy:
    st = app.settings
    return runner.Policy(misfire_bound=st.schedule_misfire_bound, late_after=timedelta(minutes=st.schedule_late_minutes),
                         retry_after=timedelta(hours=st.schedule_retry_hours),
                         remind_above=None if st.schedule_remind_above <= 0 else
                         to_minor(Decimal(st.schedule_remind_above), "USD"))


def run_one(app: App, run_id: str, kind: str, payload: dict[str, Any]) -> Outcome:
    """One occurrence through the same execution as a confirmed card: the ledger for a send, the broker for a trade
    (with a fresh quote: the reserve and price band of the card's day would be stale)."""
    inner = from_dict(payload["inner"]) if payload.get("kind") == "standing" else from_dict(payload)
    if isinstance(inner, Send):
        return execution.on_ledger(app, run_id, replace(inner, recurrence=None, when=None))
    fn = app.bus.executors.get(inner.kind)
    if fn is None:
        return Outcome(False, "unknown_action")
    return fn(app, run_id, _fresh_order(app, inner))


def _fresh_order(app: App, inner: Payload) -> Payload:
    from bot.handlers import trading
    from bot.payloads.orders import Order, Quote

    if not isinstance(inner, Order) or app.broker is None or inner.limit_price is not None:
        return inner
    try:
        q = app.broker.quote(inner.symbol)
    except Exception:
        return inner
    band = app.settings.broker_price_band_bps
    if inner.kind == "buy":
        bound = (q.ask * (10_000 + band) / 10_000).quantize(Decimal("0.01"), rounding="ROUND_CEILING")
        cash = (trading.cash_minor(inner.qty * bound, inner.currency, "ROUND_CEILING") if inner.qty is not None
                else trading.cash_minor(inner.notional or Decimal(0), inner.currency))
        reserve: int | None = cash + trading.fee_of(app, cash)
    else:
        bound = (q.bid * (10_000 - band) / 10_000).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
        reserve = inner.reserve
    return replace(inner, price_bound=bound, reserve=reserve,
                   quote=Quote(bid=q.bid, ask=q.ask, at=q.at, market_open=q.market_open))


def due(app: App, now: datetime) -> list[Reply]:
    """Write due occurrences, remind, run each due one once (the database picks the worker) and tell the owner."""
    extra: list[Reply] = []
    with Session(app.db) as s:
        if store.upgrade_legacy(s, app.settings.default_timezone, app.settings.schedule_local_hour):
            s.commit()

    def after(s: Session, sched: Schedule, occ: Occurrence, outcome: Outcome) -> None:
        payload = json.loads(sched.payload)
        inner = _inner(payload)
        if isinstance(inner, Send) and occ.run_id:
            escrow.record(app, s, occ.run_id, sched.user_id, inner, now)
            sender = s.get(User, sched.user_id)
            if sender is not None:
                extra.extend(outcomes.notify_recipients(s, sender, inner))

    result = runner.tick(app.db, now, policy(app), lambda rid, kind, p: run_one(app, rid, kind, p), after)
    out = [r for rep in result.reports for r in _tell(app, rep)]
    return out + extra


def _tell(app: App, rep: runner.Report) -> list[Reply]:
    with Session(app.db) as s:
        user = s.get(User, rep.user_id)
        sched = s.get(Schedule, rep.schedule_id)
        if user is None or not user.private_chat_id or sched is None:
            return []
        lang, chat, tz = user.lang, user.private_chat_id, sched.tz
    what = _inner(rep.payload).describe(lang).splitlines()[0]
    due_at = when_text(rep.due_at, tz, lang)
    if rep.what == "ran":
        text = t(lang, "Standing order #{n} done ✅", n=rep.schedule_id) + "\n" + what
        if rep.late:
            text += "\n" + t(lang, "It ran late: it was due {when}, when the bot was not running.", when=due_at)
    elif rep.what == "retry":
        assert rep.retry_at is not None
        text = (t(lang, "Standing order #{n} not done: {reason}", n=rep.schedule_id, reason=outcomes.reason(rep.code, lang))
                + "\n" + what + "\n" + t(lang, "I will try once more at {when}.", when=when_text(rep.retry_at, tz, lang)))
    elif rep.what == "gave_up":
        text = (t(lang, "Standing order #{n} not done again: {reason}", n=rep.schedule_id,
                  reason=outcomes.reason(rep.code, lang)) + "\n" + what + "\n"
                + (t(lang, "This run is skipped; the next one is {when}.", when=when_text(rep.next_at, tz, lang))
                   if rep.next_at else t(lang, "This run is skipped, and there is no next one.")))
    elif rep.what == "failed":
        text = (t(lang, "Standing order #{n} not done: {reason}", n=rep.schedule_id, reason=outcomes.reason(rep.code, lang))
                + "\n" + what)
    elif rep.what == "skipped" and rep.code == "missed":
        days = ", ".join(when_text(d, tz, lang) for d in rep.skipped)
        text = (tn(lang, "While the bot was not running, {n} run of standing order #{id} was missed and skipped: {days}.",
                   "While the bot was not running, {n} runs of standing order #{id} were missed and skipped: {days}.",
                   len(rep.skipped), n=len(rep.skipped), id=rep.schedule_id, days=days) + "\n" + what)
    elif rep.what == "reminder":
        text = t(lang, "Reminder: standing order #{n} runs tomorrow, {when}:", n=rep.schedule_id, when=due_at) + "\n" + what
    else:
        return []
    return [Reply(ReplyKind.message, chat, text)]


def next_wake(app: App, now: datetime) -> datetime | None:
    """When the schedules next have work (for the scheduler clock)."""
    return runner.next_wake(app.db, now, policy(app))
