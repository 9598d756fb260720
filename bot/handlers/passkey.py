"""Passkeys in the chat: /passkey lists, adds (after the current PIN, and code when enrolled) and
removes them; a card's step-up offers the passkey page (a Mini App in Telegram, a link elsewhere),
whose checked answer comes back as a press of the link's token from the person's private chat."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot import passkeys as pk
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.events import Button, ReplyKind
from bot.handlers import replies, state
from bot.i18n import fmt_datetime, t
from bot.models import Action, Challenge, PasskeyLink, PressToken
from bot.passkey_words import refusal_text
from bot.payloads import load
from bot.stepup import PinCheck

PRESS = "passkey"  # PressToken.choice of a step-up link's token ("passkey:<link token>")
PAGE = "/passkey/"  # where the web app serves the page (adapters/web/passkey.py)


def register(bus: Bus) -> None:
    bus.commands["passkey"] = cmd_passkey  # the page's answer (a `passkey` press) is registered by stepup


def base_url(app: App) -> str:
    """PUBLIC_BASE_URL without a trailing slash; '' when the bot has no web page."""
    return app.settings.public_base_url.rstrip("/")


def relying_party(app: App) -> pk.RelyingParty:
    """The relying party of the settings (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS, else PUBLIC_BASE_URL's)."""
    return pk.RelyingParty(app.settings.webauthn_rp(), tuple(app.settings.webauthn_allowed_origins()))


def available(app: App) -> bool:
    """Whether passkeys can be used here: a public web address and a relying party."""
    return bool(base_url(app)) and relying_party(app).enabled


def page_button(app: App, label: str, token: str) -> Button:
    """The button that opens the passkey page: a Mini App on Telegram, a link elsewhere."""
    url = f"{base_url(app)}{PAGE}{token}"
    return Button(label, web_app=url) if app.messenger == "telegram" else Button(label, url=url)


def enrolled(app: App, c: Ctx) -> bool:
    """Whether this person can answer a step-up with a passkey here."""
    return available(app) and pk.has_passkey(c.s, c.user.id)


# --------------------------------------------------------------------------- /passkey


def _listing(c: Ctx) -> str:
    own = pk.credentials(c.s, c.user.id or 0)
    if not own:
        return t(c.lang, "You have no passkey yet.")
    lines = [t(c.lang, "Your passkeys:")]
    for i, cred in enumerate(own, 1):
        used = fmt_datetime(cred.last_used_at, c.lang) if cred.last_used_at else t(c.lang, "never")
        lines.append(t(c.lang, "{n}. {name} (added {added}, last used {used})", n=i, name=cred.name,
                       added=fmt_datetime(cred.created_at, c.lang), used=used))
    lines.append(t(c.lang, "/passkey remove N removes one."))
    return "\n".join(lines)


def cmd_passkey(app: App, c: Ctx, arg: str = "") -> None:
    """/passkey: your passkeys and a one-time link to add one (after your PIN); /passkey remove N."""
    if not c.private:
        c.say(t(c.lang, "Passkeys are managed in our private chat: send /passkey there."))
        return
    if not available(app):
        c.say(t(c.lang, "Passkeys are not set up on this bot (its operator sets PUBLIC_BASE_URL)."))
        return
    words = arg.split()
    if words and words[0].lower() in ("remove", "delete", "fjern", "supprimer"):
        number = int(words[1]) if len(words) == 2 and words[1].isdigit() else 0
        gone = pk.remove(c.s, c.user.id or 0, number)
        if gone is None:
            c.say(t(c.lang, "There is no passkey number {n}. /passkey lists them.", n=words[1] if len(words) > 1 else "?"))
            return
        c.say(t(c.lang, "Removed the passkey {name}.", name=gone.name) + "\n" + _listing(c))
        return
    if not c.user.pin_hash:
        c.say(_listing(c) + "\n\n" + t(c.lang, "Choose a PIN with /pin first; then /passkey adds a passkey."))
        return
    locked = app.stepup.locked(c.user, c.now)
    if locked is not None:
        c.say(t(c.lang, "Confirmations are locked until {time} after too many wrong PINs.", time=fmt_datetime(locked, c.lang)))
        return
    # adding a factor takes the current ones: the PIN, then the current code when enrolled (pin.factor_change)
    state.set(c, {"await": "factor_pin", "then": "passkey", "chat": c.ev.chat.chat_id})
    c.say(_listing(c) + "\n\n" + t(c.lang, "To add a passkey, first type your current PIN. I delete it from the chat right away."))


def enrol_link(app: App, c: Ctx) -> None:
    """The current factors were given: a one-time link to the page that adds a passkey."""
    state.set(c, None)
    ttl = timedelta(seconds=app.settings.passkey_link_ttl_seconds)
    link = pk.new_link(c.s, purpose=pk.ENROL, user=c.user, messenger=app.messenger, external_id=c.ev.sender.user_id,
                       now=c.now, ttl=ttl)
    minutes = max(1, app.settings.passkey_link_ttl_seconds // 60)
    c.say(t(c.lang, "Open the page below to add a passkey: your phone's fingerprint, face or screen lock then confirms payments. The link works once, for {n} minutes.", n=minutes),
          buttons=((page_button(app, t(c.lang, "Add a passkey"), link.token),),))


# --------------------------------------------------------------------------- step-up


def offer(app: App, c: Ctx, ch: Challenge, dm: str) -> None:
    """Put the passkey button on the step-up question just asked for `ch` (the PIN question with its
    keypad), or, when the challenge takes no PIN, ask for the passkey alone."""
    ttl = timedelta(seconds=app.settings.confirmation_ttl_seconds)
    link = pk.new_link(c.s, purpose=pk.STEPUP, user=c.user, messenger=app.messenger,
                       external_id=_external_id(c), now=c.now, ttl=ttl, challenge=ch)
    c.s.add(PressToken(token=f"{PRESS}:{link.token}", action_id=ch.action_id, choice=PRESS,
                       allowed_user_id=c.user.id, single_use=False, expires_at=link.expires_at))
    button = page_button(app, t(c.lang, "Confirm with passkey"), link.token)
    for i in range(len(c.replies) - 1, -1, -1):
        r = c.replies[i]
        if r.kind is ReplyKind.message and r.ref == f"pin:{ch.id}":
            if ch.method == "passkey":  # the PIN question stays open, so a typed PIN is caught (refuse_pin)
                a = c.s.get(Action, ch.action_id)
                summary = _summary(a, c.lang)
                text = t(c.lang, "To confirm:\n{summary}\n\nConfirm with your passkey: tap the button, then your fingerprint, face or screen lock.", summary=summary)
                c.replies[i] = replace(r, text=text, buttons=((button,),))
            else:
                extra = t(c.lang, "Or confirm with your passkey: tap the button.")
                c.replies[i] = replace(r, text=f"{r.text}\n{extra}", buttons=((button,), *r.buttons))
            return
    c.say(t(c.lang, "Confirm with your passkey: tap the button."), chat_id=dm, buttons=((button,),))


def _summary(a: Action | None, lang: str) -> str:
    return load(a.payload).describe(lang) if a is not None else ""


def _external_id(c: Ctx) -> str:
    """The person's id on this messenger (the sender of this event is the card's initiator)."""
    return c.ev.sender.user_id


def refuse_pin(c: Ctx, ch: Challenge) -> bool:
    """A PIN typed for a challenge that takes only a passkey: refused (not counted), say so."""
    if ch.method != "passkey":
        return False
    c.say(t(c.lang, "This confirmation takes your passkey, not your PIN: tap \"Confirm with passkey\" above."))
    return True


def on_press(app: App, c: Ctx, tok: PressToken, passed: Callable[[App, Ctx, Challenge, Action, str], None]) -> None:
    """The passkey page's answer for a step-up link (see adapters/web/passkey.py): checked here, in
    the event's transaction under the person's lockout; passing it passes the card's challenge
    (`passed`: the step-up room's, which registers this press)."""
    token = tok.token.removeprefix(f"{PRESS}:")
    try:
        link = pk.open_link(c.s, token, c.now, purpose=pk.STEPUP, lock=True)
    except pk.PasskeyRefused as exc:
        _note(c, token, exc.reason)
        return
    answer, link.answer = link.answer, None
    try:
        if link.user_id != c.user.id:
            raise pk.PasskeyRefused(pk.Refusal.wrong_person)
        ch, a = pk.card_for(c.s, link, c.now)
        if app.stepup.locked(c.user, c.now) is not None:
            raise pk.PasskeyRefused(pk.Refusal.locked)
        if not answer:
            raise pk.PasskeyRefused(pk.Refusal.no_challenge)
        pk.verify_assertion(c.s, relying_party(app), link, json.loads(answer), c.now)
    except pk.PasskeyRefused as exc:
        link.outcome = exc.reason.value
        if exc.reason in pk.COUNTED:
            result = app.stepup.answer(c.s, c.user, c.now, ok=False)
            if result.status == PinCheck.locked:
                link.outcome = pk.Refusal.locked.value
                _lock_out(app, c, link, result.locked_until)
        return
    result = app.stepup.answer(c.s, c.user, c.now, ok=True)
    if not result.ok:
        link.outcome = pk.Refusal.locked.value
        return
    pk.use_link(c.s, link, c.now)
    link.outcome = "ok"
    passed(app, c, ch, a, "passkey")


def _note(c: Ctx, token: str, reason: pk.Refusal) -> None:
    row = c.s.get(PasskeyLink, token)
    if row is not None and row.outcome != "ok":
        row.outcome = reason.value


def _lock_out(app: App, c: Ctx, link: PasskeyLink, until: datetime | None) -> None:
    """Too many failed answers: the card is cancelled, as after too many wrong PINs."""
    ch = c.s.get(Challenge, link.challenge_id) if link.challenge_id is not None else None
    a = c.s.get(Action, ch.action_id) if ch is not None else None
    if ch is None or a is None:
        return
    ch.status, a.status, a.result = "failed", "cancelled", "stepup_locked"
    state.set(c, None)
    when = fmt_datetime(until, c.lang) if until is not None else ""
    c.say(t(c.lang, "Too many failed attempts: confirmations are locked until {time}. Nothing was done.", time=when))
    c.replies.extend(replies.edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Cancelled: the step-up check failed.")))


def refusal(lang: str, reason: str) -> str:
    """The sentence of a refusal reason stored on a link."""
    return refusal_text(lang, pk.Refusal(reason))
