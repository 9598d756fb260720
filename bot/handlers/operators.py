"""Operators' room: `/admin` in the operator's private chat, each act behind their own step-up; approval cards
with Approve / Reject for the other operators; approvals expiring and crashed ones finished by the tick.

The acts themselves are bot/operators/service.py; this room turns commands into cards (an `admin` action
confirmed with Confirm and the operator's PIN), Approve presses into the checker's own `admin_approve`
action (straight to their PIN), and the service's notices into replies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlmodel import Session

from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import display
from bot.events import Button, Reply, ReplyKind
from bot.execution import Outcome
from bot.handlers import cards, replies, stepup, tokens
from bot.i18n import t
from bot.models import Action, PressToken, User
from bot.operators import audit, checker, service, texts
from bot.operators.verbs import OpCommand, help_text, parse
from bot.payloads import Payload, register_payload


@register_payload
@dataclass(frozen=True)
class AdminPayload(Payload):
    """An operator's `/admin` command, confirmed with their own step-up before it is done (or asked for)."""

    kind: ClassVar[str] = "admin"
    text: str = ""
    from_user: int = 0
    from_label: str | None = None
    currency: str = ""

    def body(self) -> dict[str, Any]:
        return {"text": self.text, "from_user": self.from_user, "from_label": self.from_label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdminPayload:
        return cls(text=str(data.get("text", "")), from_user=int(data.get("from_user", 0)), from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        cmd = parse(self.text)
        what = texts.describe(cmd, lang, None) if isinstance(cmd, OpCommand) else self.text
        return t(lang, "Operator: {what}", what=what)


@register_payload
@dataclass(frozen=True)
class ApprovePayload(Payload):
    """A checker's approval of another operator's act, given with the checker's own step-up."""

    kind: ClassVar[str] = "admin_approve"
    approval_id: str = ""
    what: str = ""
    from_user: int = 0
    from_label: str | None = None
    currency: str = ""

    def body(self) -> dict[str, Any]:
        return {"approval_id": self.approval_id, "what": self.what, "from_user": self.from_user, "from_label": self.from_label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApprovePayload:
        return cls(approval_id=str(data.get("approval_id", "")), what=str(data.get("what", "")),
                   from_user=int(data.get("from_user", 0)), from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        return t(lang, "Approve: {what}", what=self.what)


def register(bus: Bus) -> None:
    bus.commands["admin"] = cmd_admin
    bus.presses["op_approve"] = press_approve
    bus.presses["op_reject"] = press_reject
    bus.executors["admin"] = execute_admin
    bus.executors["admin_approve"] = execute_approve
    bus.after_record["admin"] = after_admin
    bus.after_record["admin_approve"] = after_admin
    bus.ticks.append(tick)


# ------------------------------------------------------------------ the maker


def cmd_admin(app: App, c: Ctx, arg: str) -> None:
    """`/admin <verb> ...`: help at once; everything else after the operator's own step-up."""
    if not service.is_operator(c.s, app.settings, c.user):
        audit.append(c.s, at=c.now, actor_id=c.uid, verb="admin.refused", detail={"command": arg[:300], "why": "not an operator"})
        c.say(t(c.lang, "Only operators can use /admin."))
        return
    if not c.private:
        c.say(t(c.lang, "Use /admin in our private chat with me, never in a group."))
        return
    cmd = parse(arg)
    if not isinstance(cmd, OpCommand):
        c.say(cmd.text(c.lang))
        return
    if cmd.verb == "help":
        c.say(help_text(c.lang))
        _cards_waiting(app, c)
        return
    refused = service.precheck(c.s, app.settings, c.user, cmd, app.ledger)
    if refused is not None:  # refused before any step-up: recorded all the same
        target = app.directory.by_handle(c.s, cmd.handle) if cmd.handle else None
        audit.append(c.s, at=c.now, actor_id=c.uid, verb=f"{cmd.verb}.refused", target_id=target.id if target else None,
                     reason=cmd.reason, detail={"command": cmd.text, "why": refused})
        c.say(refused)
        return
    cards.propose(app, c, AdminPayload(text=arg.strip(), from_user=c.uid))


def _cards_waiting(app: App, c: Ctx) -> None:
    """`/admin help` shows again the approvals other operators asked for that this one may still decide (an
    operator without a private chat when they were asked sees them here)."""
    for ap in checker.pending_for(c.s, c.uid, c.now):
        maker = c.s.get(User, ap.maker_id)
        target = c.s.get(User, ap.target_id) if ap.target_id else None
        if maker is None:
            continue
        text = texts.approval_card_text(ap, maker, target, service.command_of(json.loads(ap.params), ap.reason), c.lang)
        c.replies.append(_approval_card(app, c.s, c.user, ap.id, text, c.now))


def execute_admin(app: App, run_id: str, payload: Payload) -> Outcome:
    """The operator passed their step-up: do the command (or ask for its approval), once (the approval's id
    derives from the action's)."""
    assert isinstance(payload, AdminPayload)
    cmd = parse(payload.text)
    if not isinstance(cmd, OpCommand):
        return Outcome(True, "refused", _notices([]))
    told = service.perform(app.db, app.ledger, app.settings, payload.from_user, cmd, run_id, app.clock())
    return Outcome(True, "asked" if told.asked else "ok" if told.ok else "refused", _notices(told.notices))


def after_admin(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome, now: datetime) -> list[Reply]:
    """Close the card and deliver what the act says to whom (approval cards with their buttons)."""
    head = {"ok": t(user.lang, "Done ✅"), "asked": t(user.lang, "Sent for a second operator's approval.")}
    out = replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id,
                               head.get(outcome.code, t(user.lang, "Not done.")) + "\n" + payload.describe(user.lang))
    return out + deliver(app, s, json.loads(outcome.detail or "[]"), now)


def _notices(notices: list[service.Notice]) -> str:
    return json.dumps([{"user_id": n.user_id, "chat_id": n.chat_id, "text": n.text, "approval_id": n.approval_id}
                       for n in notices])


def deliver(app: App, s: Session, notices: list[dict[str, Any]], now: datetime) -> list[Reply]:
    """The notices as replies: messages, and approval cards with Approve / Reject."""
    out: list[Reply] = []
    for n in notices:
        if not n.get("chat_id"):
            continue
        if n.get("approval_id"):
            checker = s.get(User, int(n["user_id"]))
            if checker is not None:
                out.append(_approval_card(app, s, checker, str(n["approval_id"]), str(n["text"]), now))
            continue
        out.append(Reply(ReplyKind.message, str(n["chat_id"]), str(n["text"])))
    return out


def _approval_card(app: App, s: Session, checker: User, approval_id: str, text: str, now: datetime) -> Reply:
    from datetime import timedelta

    life = timedelta(seconds=app.settings.approval_ttl_seconds)
    yes = tokens.raw_token(app, s, "op_approve", now=now, action_id=approval_id, allowed=checker.id, lifetime=life)
    no = tokens.raw_token(app, s, "op_reject", now=now, action_id=approval_id, allowed=checker.id, lifetime=life)
    lang = checker.lang
    return Reply(ReplyKind.message, checker.private_chat_id or "", text,
                 ((Button(t(lang, "Approve"), data=yes), Button(t(lang, "Reject"), data=no)),),
                 ref=f"approval:{approval_id}:{checker.id}")


# ------------------------------------------------------------------ the checker


def press_approve(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    """Approve pressed: the checker's own action for this approval, straight to their step-up."""
    approval_id = str(tok.action_id)
    ap, why = checker.may_decide(c.s, app.settings, c.user, approval_id, c.now)
    if ap is None:
        if why and "yourself" in why:
            c.after.append(lambda: _refuse_own(app, approval_id, c.uid, c.now))
        c.answer(why or "")
        return
    maker = c.s.get(User, ap.maker_id)
    target = c.s.get(User, ap.target_id) if ap.target_id else None
    what = texts.describe(service.command_of(json.loads(ap.params), ap.reason), c.lang, target)
    what = t(c.lang, "{what}, asked by {maker}", what=what, maker=display(maker) if maker else "?")
    aid = f"{approval_id}:by:{c.uid}"
    a = c.s.get(Action, aid)
    if a is None:
        payload = ApprovePayload(approval_id=approval_id, what=what, from_user=c.uid, from_label=display(c.user))
        body = payload.to_json()
        from bot.actions import digest

        a = Action(id=aid, kind=payload.kind, initiator_id=c.uid, messenger=c.ev.chat.messenger,
                   origin_chat_id=c.ev.chat.chat_id, payload=body, digest=digest(body), created_at=c.now,
                   expires_at=c.now + app.ttl, card_chat_id=c.ev.chat.chat_id)
        c.s.add(a)
        c.s.flush()
    elif a.status not in ("awaiting_confirm", "awaiting_stepup"):
        if a.status in ("expired", "cancelled"):  # its step-up lapsed: a fresh try
            a.status, a.expires_at = "awaiting_confirm", c.now + app.ttl
        else:
            c.answer(t(c.lang, "This approval is already {status}.", status=t(c.lang, a.status)))
            return
    c.answer(t(c.lang, "Approving: give your PIN."), alert=False)
    stepup.confirm(app, c, a)


def _refuse_own(app: App, approval_id: str, maker_id: int, now: datetime) -> list[Reply]:
    checker.refuse_own(app.db, approval_id, maker_id, now)
    return []


def press_reject(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    """Reject pressed: nothing is done; recorded, and the maker is told."""
    approval_id = str(tok.action_id)
    ap, why = checker.may_decide(c.s, app.settings, c.user, approval_id, c.now, approving=False)
    if ap is None:
        c.answer(why or "")
        return
    uid, now = c.uid, c.now
    c.answer(t(c.lang, "Rejecting…"), alert=False)

    def later() -> list[Reply]:
        told = checker.reject(app.db, app.settings, uid, approval_id, now)
        with Session(app.db, expire_on_commit=False) as s:
            out = deliver(app, s, json.loads(_notices(told.notices)), now)
            s.commit()
        return out

    c.after.append(later)


def execute_approve(app: App, run_id: str, payload: Payload) -> Outcome:
    """The checker passed their step-up: the act is done once (the approval is claimed by a guarded update)."""
    assert isinstance(payload, ApprovePayload)
    told = checker.approve(app.db, app.ledger, app.settings, payload.from_user, payload.approval_id, app.clock())
    return Outcome(True, "ok" if told.ok else "refused", _notices(told.notices))


# ------------------------------------------------------------------ due work


def tick(app: App, now: datetime) -> list[Reply]:
    """Approvals expire after APPROVAL_TTL_SECONDS; approvals a crash left half done are finished."""
    told = checker.expire_due(app.db, now)
    told.notices += checker.resume(app.db, app.ledger, app.settings, now).notices
    if not told.notices:
        return []
    with Session(app.db, expire_on_commit=False) as s:
        out = deliver(app, s, json.loads(_notices(told.notices)), now)
        s.commit()
    return out

