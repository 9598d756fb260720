"""Who is in a group, expenses and uneven splits read from the text, who owes what (with its picture), and
settle-up: a card for each payer, confirmed with their own step-up, recorded against the debts."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from bot.actions import attempt_id, digest, money_text
from bot.app import App
from bot.bus import Bus
from bot.charts import debts as debts_chart
from bot.context import Ctx
from bot.directory import display
from bot.events import Attachment, Reply
from bot.execution import Outcome
from bot.groups import debts, membership, shares, texts
from bot.groups.payloads import (
    Expense,
    SettlePay,
    Share,
    UnevenSplit,
)
from bot.handlers import cards, payments, replies, requests, tokens
from bot.handlers.group_common import in_group, labels, notify, transfer
from bot.i18n import t, tn
from bot.models import Action, User
from bot.payloads import Leg, Payload
from intents.model import Intent


def register(bus: Bus) -> None:
    bus.intents["debts"] = intent_debts
    bus.intents["settle"] = intent_settle
    bus.executors["settle"] = transfer
    bus.after_record["settle"] = after_settle
    bus.executors["expense"] = lambda app, run_id, payload: Outcome(True, "ok")
    bus.after_record["expense"] = after_expense
    bus.executors["split_uneven"] = requests.nothing_moves
    bus.after_record["split_uneven"] = requests.after_request
    bus.readers.append(read_split)
    bus.members.append(on_members)
    bus.left.append(on_left)


def on_members(app: App, c: Ctx, users: list[User]) -> None:
    """People the event shows in the group (joined, added, a `members` line): in "everyone" again."""
    for user in users:
        membership.joined(c.s, c.chat, user)


def on_left(app: App, c: Ctx, users: list[User]) -> None:
    """People who left the group or were removed: out of "everyone", no claims, told nothing more from it."""
    for user in users:
        membership.left(c.s, c.chat, user, c.now)


def read_split(app: App, c: Ctx, text: str, intent: Intent) -> bool:
    """An expense or an uneven split written in a group ("I paid 90 for dinner, split with @bob @carol",
    "split 90: @bob 30 @carol 60", "split 100 2:1:1 with ...", "split 60 with everyone"): handled here; False
    when the text is none of them (the parser's own reading goes on)."""
    if intent.intent not in ("split", "none"):
        return False
    try:
        u = shares.read(text, c.lang, c.user.handle)
    except shares.SplitProblem:
        return False
    if u is None or not shares.is_uneven(u):
        return False
    if not in_group(c):
        return True
    cur = (u.currency or c.user.currency).upper()
    total = payments.minor(app, c, u.total, cur)
    if total is None:
        return True
    others = _sharers(app, c, u)
    if others is None:
        return True
    keys = [c.user.handle or display(c.user)] + [o.handle or display(o) for o in others]
    try:
        parts = shares.shares(u, total, cur, keys)
    except shares.SplitProblem as why:
        c.say(_split_problem(c.lang, why.code))
        return True
    assert c.chat.id is not None
    people = [c.user, *others]
    if u.expense:
        cards.propose(app, c, Expense(currency=cur, total=total, note=u.note, chat_row_id=c.chat.id, mode=u.mode,
                                      shares=tuple(Share(p.id or 0, display(p), v) for p, v in zip(people, parts, strict=True)),
                                      from_user=c.user.id or 0))
        return True
    legs = tuple(Leg(to_user=o.id, handle=o.handle, label=display(o), escrow=False, amount=v)
                 for o, v in zip(others, parts[1:], strict=True))
    cards.propose(app, c, UnevenSplit(currency=cur, legs=legs, note=u.note, total=total, own_share=parts[0],
                                      from_user=c.user.id or 0))
    return True


def _sharers(app: App, c: Ctx, u: shares.Uneven) -> list[User] | None:
    """The others an expense or split is shared with: the handles written, or everyone in the group now."""
    assert c.chat.id is not None
    if u.everyone:
        return [m for m in membership.current(c.s, c.chat.id) if m.id != c.user.id]
    out: list[User] = []
    for h in [*u.others, *[p[0] for p in u.parts if p[0] not in u.others]]:
        user = app.directory.by_handle(c.s, h)
        if user is None or not membership.is_member(c.s, c.chat.id, user.id or 0):
            c.say(t(c.lang, "@{who} is not in this group (as far as I know), so I can't share with them.", who=h))
            return None
        if user.id != c.user.id and all(o.id != user.id for o in out):
            out.append(user)
    if not out:
        c.say(t(c.lang, "Share with whom? Name them (@bob @carol) or say \"with everyone\"."))
        return None
    return out


def _split_problem(lang: str, code: str) -> str:
    return {
        "parts_exceed_total": t(lang, "The parts you named add up to more than the total."),
        "parts_differ_from_total": t(lang, "The parts you named do not add up to the total."),
        "ratio_count": t(lang, "Give one share for each person, yours first: \"split 100 2:1:1 with @bob @carol\"."),
        "percent_over_100": t(lang, "The percentages add up to more than 100%."),
        "percent_not_100": t(lang, "The percentages do not add up to 100%."),
        "mixed_parts": t(lang, "Use amounts or percentages, not both."),
    }.get(code, t(lang, "I can't split it that way. Try \"split 90: @bob 30 @carol 60\"."))


def after_expense(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome, now: datetime) -> list[Reply]:
    assert isinstance(payload, Expense)
    debts.record_expense(s, payload.chat_row_id, payload.from_user, {sh.user: sh.amount for sh in payload.shares},
                         payload.currency, f"expense:{a.id}", payload.note, now)
    return replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id,
                                t(user.lang, "Written down ✅") + "\n" + payload.describe(user.lang))


def intent_debts(app: App, c: Ctx, intent: Intent) -> None:
    if not in_group(c):
        return
    assert c.chat.id is not None
    ok, pair = _pair(app, c, intent)
    if not ok:
        return
    nets = debts.balances(c.s, c.chat.id)
    plan = debts.settle_plan(c.s, c.chat.id, between=pair)
    graph = debts.pairwise(c.s, c.chat.id)
    if pair:
        graph = [d for d in graph if {int(d.debtor), int(d.creditor)} == set(pair)]
        nets = {cur: {k: v for k, v in people.items() if k in pair} for cur, people in nets.items()}
    ids = {k for people in nets.values() for k in people} | {p.payer_id for p in plan} | {p.payee_id for p in plan}
    names = labels(c.s, ids | {int(d.debtor) for d in graph} | {int(d.creditor) for d in graph})
    text = texts.balances(c.lang, {cur: {names[k]: v for k, v in people.items()} for cur, people in nets.items() if people},
                          [(names[p.payer_id], names[p.payee_id], p.amount, p.currency) for p in plan])
    title = c.chat.title or c.ev.chat.title or "group"
    picture = debts_chart.png([debts_chart.Debt(names[int(d.debtor)], names[int(d.creditor)], d.amount, d.currency)
                               for d in graph], c.lang, title)
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", title).strip("-") or "group"
    c.say(text, photo=Attachment(f"debts-{safe}.png", picture, "image/png"))


def _pair(app: App, c: Ctx, intent: Intent) -> tuple[bool, tuple[int, int] | None]:
    """(ok, (speaker, other)) for "what do I owe @bob?" / "settle up with @bob"; the pair None without one;
    ok False after saying why."""
    if not intent.recipients:
        return True, None
    legs = payments.resolve(app, c, tuple(intent.recipients[:1]))
    if legs is None:
        return False, None
    if legs[0].to_user is None:
        c.say(t(c.lang, "{who} has not used finbot yet, so there is nothing between you.", who=legs[0].label))
        return False, None
    return True, (c.user.id or 0, legs[0].to_user)


def intent_settle(app: App, c: Ctx, intent: Intent) -> None:
    if not in_group(c):
        return
    assert c.chat.id is not None
    ok, pair = _pair(app, c, intent)
    if not ok:
        return
    plan = debts.settle_plan(c.s, c.chat.id, between=pair)
    if not plan:
        c.say(t(c.lang, "Nothing to settle: nobody owes anything here."))
        return
    base = cards.action_id(c, c.ev.message_id or c.ev.event_id)
    c.say(tn(c.lang, "Settling up takes {n} payment; its payer confirms it with their PIN.",
             "Settling up takes {n} payments; each payer confirms their own with their PIN.", len(plan)))
    for i, p in enumerate(plan):
        payer, payee = c.s.get(User, p.payer_id), c.s.get(User, p.payee_id)
        if payer is None or payee is None:
            continue
        payload = SettlePay(currency=p.currency, amount=p.amount, to_user=p.payee_id, to_label=display(payee),
                            chat_row_id=c.chat.id, from_user=p.payer_id, from_label=display(payer))
        _card_for(app, c, f"{base}:settle{i}", payer, payload)


def _card_for(app: App, c: Ctx, aid: str, initiator: User, payload: Payload) -> None:
    """A card in this chat for someone else to confirm (a settle-up payment for its payer): only they can."""
    if c.s.get(Action, aid) is not None:
        return
    body = payload.to_json()
    a = Action(id=aid, kind=payload.kind, initiator_id=initiator.id or 0, messenger=c.ev.chat.messenger,
               origin_chat_id=c.ev.chat.chat_id, origin_group=not c.private, payload=body, digest=digest(body),
               created_at=c.now, expires_at=c.now + app.ttl, card_chat_id=c.ev.chat.chat_id)
    c.s.add(a)
    c.s.flush()
    confirm = tokens.raw_token(app, c.s, "confirm", now=c.now, action_id=aid, allowed=initiator.id, single_use=True,
                               lifetime=app.ttl)
    cancel = tokens.raw_token(app, c.s, "cancel", now=c.now, action_id=aid, allowed=initiator.id, single_use=True,
                              lifetime=app.ttl)
    c.replies.append(cards.card(initiator.lang, c.private, display(initiator), payload, aid, confirm, cancel,
                                c.ev.chat.chat_id))


def after_settle(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome, now: datetime) -> list[Reply]:
    assert isinstance(payload, SettlePay)
    debts.record_payment(s, payload.chat_row_id, payload.from_user, payload.to_user, payload.amount, payload.currency,
                         f"settle:{attempt_id(a.id, a.attempt)}", now)
    out = replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, t(user.lang, "Paid ✅") + "\n" + payload.describe(user.lang))
    payee = s.get(User, payload.to_user)
    if payee is not None:
        out += notify(s, payee, a.origin_chat_id, a.messenger,
                       t(payee.lang, "{who} settled up with you: {amount}.", who=display(user),
                         amount=money_text(payload.amount, payload.currency, payee.lang)))
    return out


