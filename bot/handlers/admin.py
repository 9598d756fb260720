"""Operators' /admin: check the books, look a person up, set their tier, unlock step-up, reset a PIN, dead letters."""

from __future__ import annotations

import logging

from bot import uow
from bot.actions import money_text
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.deadletters import report as dead_letters
from bot.directory import display
from bot.escrow import reconcile
from bot.handlers import pin, state, wallets
from bot.i18n import t
from bot.models import AdminAct, User
from ledger.money import to_minor

log = logging.getLogger("finbot.engine")


def register(bus: Bus) -> None:
    bus.commands["admin"] = cmd_admin


def resetpin(app: App, c: Ctx, handle: str) -> None:
    """An operator resets someone's forgotten PIN after giving their own PIN (not yet maker-checker)."""
    if not c.private:
        c.say(t(c.lang, "Set your PIN in our private chat, never in a group."))
        return
    target = app.directory.by_handle(c.s, handle)
    if target is None:
        c.say(t(c.lang, "I don't know {who}.", who=handle))
        return
    if target.id == c.user.id:
        c.say(t(c.lang, "You cannot reset your own PIN: ask another operator."))
        return
    if not c.user.pin_hash:
        c.say(t(c.lang, "You have no PIN yet. Choose one with /pin."))
        return
    if pin.refuse_locked(app, c):
        return
    state.set(c, {"await": "op_pin", "target": target.id, "chat": c.ev.chat.chat_id})
    c.say(t(c.lang, "To reset the PIN of {who}, type your own PIN.", who=display(target)))


def cmd_admin(app: App, c: Ctx, arg: str) -> None:
    """Operators' commands; every one given (refused ones too) is written to the admin log and logged."""
    parts = arg.split()
    sub = parts[0].lower() if parts else "help"
    target: User | None = None
    if not c.user.is_operator:
        result = "refused: not an operator"
        c.say(t(c.lang, "Only operators can use /admin."))
    else:
        if sub in ("tier", "user", "unlock") and len(parts) >= 2:
            target = app.directory.by_handle(c.s, parts[1])
        result = act(app, c, sub, parts, target)
    assert c.user.id is not None
    c.s.add(AdminAct(at=c.now, operator_id=c.user.id, verb=sub[:40], target_id=target.id if target else None,
                     command=arg[:500], result=result))
    log.info("admin %s by %s on %s: %s (%s)", sub, display(c.user), display(target) if target else "-", result, arg)


def act(app: App, c: Ctx, sub: str, parts: list[str], target: User | None) -> str:
    """Do one /admin command; what came of it, for the admin log."""
    if sub in ("tier", "user", "unlock") and len(parts) >= 2 and target is None:
        c.say(t(c.lang, "I don't know {who}.", who=parts[1]))
        return "refused: unknown user"
    if sub in ("tier", "unlock") and target is not None and target.id == c.user.id:
        c.say(t(c.lang, "Nobody acts on themselves: ask another operator."))
        return "refused: on themselves"
    if sub == "check":
        report = uow.ledger(app, c).check()
        problems = report.problems + reconcile(app.db, app.ledger)
        c.say(("OK: " if not problems else "PROBLEMS: ") + report.summary + ("\n" + "\n".join(problems[:20]) if problems else ""))
        return "ok"
    if sub == "tier" and len(parts) == 3 and target is not None:
        tiers = app.settings.kyc_tiers()
        n = int(parts[2]) if parts[2].isdigit() else None
        if n not in tiers:
            no_limit = t(c.lang, "no limit")
            listed = ", ".join(f"{k} ({money_text(to_minor(v, target.currency), target.currency, c.lang) if v is not None else no_limit})"
                               for k, v in sorted(tiers.items()))
            c.say(t(c.lang, "There is no tier {n}. The tiers are: {tiers}.", n=parts[2], tiers=listed))
            return f"refused: unknown tier {parts[2][:20]}"
        before = target.kyc_tier
        target.kyc_tier = n
        c.say(t(c.lang, "{who} is now KYC tier {n}.", who=display(target), n=n))
        return f"ok: tier {before} -> {n}"
    if sub == "user" and len(parts) == 2 and target is not None:
        ledger = uow.ledger(app, c)
        bal = wallets.balance_lines(ledger, target, c.lang)
        c.say(f"{display(target)} tier={target.kyc_tier} lang={target.lang} started={target.started}\n{bal}")
        return "ok"
    if sub == "unlock" and len(parts) == 2 and target is not None:
        target.stepup_locked_until, target.pin_failures = None, 0
        c.say(t(c.lang, "Step-up unlocked for {who}.", who=display(target)))
        return "ok"
    if sub in ("deadletters", "dead"):
        c.say(dead_letters(c.s.connection(), c.lang))
        return "ok"
    if sub == "resetpin" and len(parts) == 2:
        resetpin(app, c, parts[1])
        return "ok"
    c.say("/admin check | /admin user @handle | /admin tier @handle N | /admin unlock @handle"
          " | /admin resetpin @handle | /admin deadletters")
    return "usage"


