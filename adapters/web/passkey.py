"""The passkey page: enrol a passkey from a one-time link, or confirm one card with a passkey
(in Telegram a Mini App whose initData is checked here), on the bot's one web app."""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.telegram.webapp import InitDataRefused, check_init_data
from adapters.web.app import WebContext
from bot import passkeys as pk
from bot.events import Chat, ChatKind, Event, Person, Press, Reply, ReplyKind
from bot.i18n import t
from bot.models import User
from bot.passkey_words import refusal_text
from bot.payloads import load

PREFIX = "/passkey"
PRESS_PREFIX = "passkey:"  # the press token the step-up room makes for a link: "passkey:<link token>"
STATIC = {"passkey.js": "text/javascript; charset=utf-8", "passkey.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def link_url(base: str, token: str) -> str:
    """The page's address for a link token under PUBLIC_BASE_URL."""
    return f"{base.rstrip('/')}{PREFIX}/{token}"


def relying_party(ctx: WebContext) -> pk.RelyingParty:
    """The relying party of the run's settings."""
    s = ctx.settings
    return pk.RelyingParty(s.webauthn_rp(), tuple(s.webauthn_allowed_origins()))


def _service(ctx: WebContext, name: str) -> Any:
    """One of the engine's services (its clock, its step-up), on the engine or on its App."""
    found = getattr(ctx.engine, name, None)
    if found is None:
        found = getattr(getattr(ctx.engine, "app", None), name, None)
    return found


def _now(ctx: WebContext) -> datetime:
    clock: Callable[[], datetime] | None = _service(ctx, "clock")
    return clock() if clock is not None else datetime.now(UTC)


def _result(lang: str, reason: pk.Refusal | None, message: str | None = None, status: int = 200) -> JSONResponse:
    ok = reason is None
    text = message or ("" if ok else refusal_text(lang, reason))  # type: ignore[arg-type]
    return JSONResponse({"ok": ok, "reason": "ok" if ok else reason.value, "message": text},  # type: ignore[union-attr]
                        status_code=status, headers=SECURITY_HEADERS)


# --------------------------------------------------------------------------- the page


def _page(lang: str, title: str, body: str, *, token: str = "", purpose: str = "", words: dict[str, str] | None = None) -> HTMLResponse:
    data = html.escape(json.dumps(words or {}, ensure_ascii=False).replace("</", "<\\/"), quote=False)
    page = f"""<!doctype html>
<html lang="{html.escape(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{PREFIX}/static/passkey.css">
</head>
<body>
<main id="passkey" data-token="{html.escape(token)}" data-purpose="{html.escape(purpose)}">
<h1>{html.escape(title)}</h1>
{body}
</main>
<script id="words" type="application/json">{data}</script>
<script src="{PREFIX}/static/passkey.js" defer></script>
</body>
</html>
"""
    return HTMLResponse(page, headers=SECURITY_HEADERS)


def _words(lang: str) -> dict[str, str]:
    return {
        "working": t(lang, "Waiting for your passkey…"),
        "sending": t(lang, "Checking…"),
        "cancelled": t(lang, "The passkey prompt was closed or timed out. Nothing was done. Press the button to try again."),
        "failed": t(lang, "Your device could not use a passkey here. Nothing was done."),
        "network": t(lang, "The bot could not be reached. Nothing was done; try again."),
    }


def _unsupported(lang: str) -> str:
    no_webauthn = html.escape(t(lang, "This browser cannot use passkeys. Open the link in an up-to-date browser (Chrome, Safari, Firefox, Edge) on a device with a screen lock, or confirm with your PIN in the chat."))
    no_script = html.escape(t(lang, "This page needs JavaScript to use your passkey."))
    return (f'<p id="nowebauthn" class="warn" hidden>{no_webauthn}</p>\n'
            f'<noscript><p class="warn">{no_script}</p></noscript>')


def _closed(lang: str, title: str, reason: pk.Refusal) -> HTMLResponse:
    return _page(lang, title, f'<p id="status" class="bad" role="status">{html.escape(refusal_text(lang, reason))}</p>')


def _view(ctx: WebContext, token: str) -> HTMLResponse:
    now = _now(ctx)
    with Session(ctx.db) as s:
        from bot.models import PasskeyLink

        raw = s.get(PasskeyLink, token) if token and len(token) <= 64 else None
        lang = raw.lang if raw is not None else ctx.settings.default_language
        enrol_title, stepup_title = t(lang, "Add a passkey"), t(lang, "Confirm with your passkey")
        try:
            link = pk.open_link(s, token, now)
        except pk.PasskeyRefused as exc:
            title = stepup_title if raw is not None and raw.purpose == pk.STEPUP else enrol_title
            if raw is not None and raw.outcome == "ok":
                done = t(lang, "Done: confirmed with your passkey.") if raw.purpose == pk.STEPUP else t(lang, "Done: your passkey was added.")
                return _page(lang, title, f'<p id="status" class="good" role="status">{html.escape(done)}</p>')
            return _closed(lang, title, exc.reason)
        user = s.get(User, link.user_id)
        if link.purpose == pk.ENROL:
            default = pk.default_name(s, link.user_id)
            who = f"@{user.handle}" if user is not None and user.handle else (user.name if user is not None and user.name else "")
            lead = t(lang, "This adds a passkey for {who}: your fingerprint, face or screen lock then confirms payments instead of your PIN.", who=who)
            label = t(lang, "A name for this passkey")
            body = (f'<p class="lead">{html.escape(lead)}</p>\n'
                    f'<label for="name">{html.escape(label)}</label>\n'
                    f'<input id="name" name="name" maxlength="{pk.NAME_LIMIT}" autocomplete="off" value="{html.escape(default)}">\n'
                    f'<button id="go" type="button">{html.escape(enrol_title)}</button>\n'
                    f'<p id="status" role="status" aria-live="polite"></p>\n{_unsupported(lang)}')
            return _page(lang, enrol_title, body, token=token, purpose=link.purpose, words=_words(lang))
        try:
            _ch, action = pk.card_for(s, link, now)
        except pk.PasskeyRefused as exc:
            return _closed(lang, stepup_title, exc.reason)
        lines = load(action.payload).describe(lang).splitlines()  # the card's own words (amount, payee, fee, rate)
        items = "\n".join(f"<li>{html.escape(line.strip())}</li>" for line in lines if line.strip())
        lead = t(lang, "You are confirming:")
        bound = t(lang, "Your passkey signs exactly this: another amount or payee would need a new confirmation.")
        body = (f'<p class="lead">{html.escape(lead)}</p>\n'
                f'<ul id="what" class="card">\n{items}\n</ul>\n'
                f'<p class="small">{html.escape(bound)}</p>\n'
                f'<button id="go" type="button">{html.escape(stepup_title)}</button>\n'
                f'<p id="status" role="status" aria-live="polite"></p>\n{_unsupported(lang)}')
        return _page(lang, stepup_title, body, token=token, purpose=link.purpose, words=_words(lang))


# --------------------------------------------------------------------------- the ceremony


def _acting(ctx: WebContext, link_messenger: str, body: dict[str, Any], now: datetime) -> str | None:
    """Who the request acts for: on Telegram the user the Mini App's initData names (checked under
    the bot token, recent), else nobody in particular (the one-time link is the proof)."""
    if link_messenger != "telegram":
        return None
    try:
        user = check_init_data(str(body.get("initData") or ""), ctx.settings.telegram_bot_token, now,
                               ctx.settings.webapp_auth_max_age_seconds)
    except InitDataRefused as exc:
        raise pk.PasskeyRefused(pk.Refusal.wrong_person, str(exc)) from exc
    return user.user_id


def _options_work(ctx: WebContext, token: str, body: dict[str, Any]) -> tuple[tuple[str, pk.Refusal | None, dict[str, Any]], list[Reply]]:
    now = _now(ctx)
    rp = relying_party(ctx)
    lang = ctx.settings.default_language
    with Session(ctx.db, expire_on_commit=False) as s:
        try:
            link = pk.open_link(s, token, now, lock=True)
            lang = link.lang
            pk.check_person(link, _acting(ctx, link.messenger, body, now))
            user = s.get(User, link.user_id)
            assert user is not None
            if link.purpose == pk.ENROL:
                display = f"@{user.handle}" if user.handle else (user.name or f"user {user.id}")
                options = pk.registration_options(s, rp, link, user, display)
            else:
                pk.card_for(s, link, now)
                stepup = _service(ctx, "stepup")
                if stepup is not None and stepup.locked(user, now) is not None:
                    raise pk.PasskeyRefused(pk.Refusal.locked)
                options = pk.authentication_options(s, rp, link)
            s.commit()
        except pk.PasskeyRefused as exc:
            s.rollback()
            return (lang, exc.reason, {}), []
    return (lang, None, options), []


def _enrol_work(ctx: WebContext, token: str, body: dict[str, Any]) -> tuple[tuple[str, pk.Refusal | None, str], list[Reply]]:
    now = _now(ctx)
    lang = ctx.settings.default_language
    with Session(ctx.db, expire_on_commit=False) as s:
        try:
            link = pk.open_link(s, token, now, purpose=pk.ENROL, lock=True)
            lang = link.lang
            pk.check_person(link, _acting(ctx, link.messenger, body, now))
            credential = body.get("credential")
            if not isinstance(credential, dict):
                raise pk.PasskeyRefused(pk.Refusal.malformed)
            row = pk.finish_registration(s, relying_party(ctx), link, credential, str(body.get("name") or ""), now)
            link.outcome = "ok"
            s.add(link)
            user = s.get(User, link.user_id)
            s.commit()
        except pk.PasskeyRefused as exc:
            s.rollback()
            return (lang, exc.reason, ""), []
    text = t(lang, "Passkey added: {name}. From now on your passkey confirms payments; /passkey lists and removes your passkeys.", name=row.name)
    replies = [Reply(ReplyKind.message, user.private_chat_id, text)] if user is not None and user.private_chat_id else []
    return (lang, None, text), replies


def _stepup_work(ctx: WebContext, token: str, body: dict[str, Any]) -> tuple[tuple[str, pk.Refusal | None, str], list[Reply]]:
    """Keep the posted assertion on the link, then hand the engine a press of the link's token from
    the person's private chat: the step-up room checks it (in the event's transaction, under the
    person's lockout) and passes the challenge; the link's outcome says how it went."""
    now = _now(ctx)
    lang = ctx.settings.default_language
    with Session(ctx.db, expire_on_commit=False) as s:
        try:
            link = pk.open_link(s, token, now, purpose=pk.STEPUP, lock=True)
            lang = link.lang
            acting = _acting(ctx, link.messenger, body, now)
            pk.check_person(link, acting)
            credential = body.get("credential")
            if not isinstance(credential, dict) or not link.nonce:
                raise pk.PasskeyRefused(pk.Refusal.malformed if link.nonce else pk.Refusal.no_challenge)
            link.answer, link.outcome = json.dumps(credential), None
            nonce = link.nonce
            s.add(link)
            user = s.get(User, link.user_id)
            s.commit()
        except pk.PasskeyRefused as exc:
            s.rollback()
            return (lang, exc.reason, ""), []
    if ctx.engine is None or user is None or not user.private_chat_id:
        return (lang, pk.Refusal.not_open, ""), []
    messenger = link.messenger
    press_id = f"web:{secrets.token_hex(6)}"
    ev = Event(f"web-passkey-{token}-{nonce}", Chat(messenger, user.private_chat_id, ChatKind.private),
               Person(messenger, acting or link.external_id, handle=user.handle, name=user.name), now,
               press=Press(press_id, PRESS_PREFIX + token))
    replies = list(ctx.engine.handle(ev))
    notes = [r.text for r in replies if r.kind is ReplyKind.answer_press and r.press_id == press_id and r.text]
    replies = [r for r in replies if not (r.kind is ReplyKind.answer_press and r.press_id == press_id)]
    with Session(ctx.db) as s:
        from bot.models import PasskeyLink

        done = s.get(PasskeyLink, token)
        outcome = done.outcome if done is not None else None
    if outcome == "ok":
        return (lang, None, t(lang, "Confirmed with your passkey. You can close this page; the result is in the chat.")), replies
    if outcome:
        try:
            return (lang, pk.Refusal(outcome), ""), replies
        except ValueError:
            pass
    return (lang, pk.Refusal.not_open, notes[0] if notes else ""), replies


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def routes(ctx: WebContext) -> Sequence[BaseRoute]:
    """The passkey page's routes (mounted from adapters.web.app.MOUNTS); none without a database."""
    if ctx.db is None:
        return []

    async def page(request: Request) -> Response:
        import asyncio

        return await asyncio.to_thread(_view, ctx, request.path_params["token"])

    async def options(request: Request) -> Response:
        body = await _json(request)
        lang, reason, opts = await ctx.run(lambda: _options_work(ctx, request.path_params["token"], body))
        if reason is not None:
            return _result(lang, reason, status=403 if reason is pk.Refusal.wrong_person else 200)
        return JSONResponse({"ok": True, "options": opts}, headers=SECURITY_HEADERS)

    async def answer(request: Request) -> Response:
        token = request.path_params["token"]
        body = await _json(request)
        purpose = await _purpose(token)
        work = _enrol_work if purpose == pk.ENROL else _stepup_work
        lang, reason, message = await ctx.run(lambda: work(ctx, token, body))
        return _result(lang, reason, message or None, status=403 if reason is pk.Refusal.wrong_person else 200)

    async def _purpose(token: str) -> str | None:
        import asyncio

        def read() -> str | None:
            from bot.models import PasskeyLink

            with Session(ctx.db) as s:
                link = s.get(PasskeyLink, token) if len(token) <= 64 else None
                return link.purpose if link is not None else None

        return await asyncio.to_thread(read)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return Response(status_code=404)
        content = resources.files("adapters.web").joinpath(f"static/{name}").read_bytes()
        return Response(content, media_type=STATIC[name], headers={**SECURITY_HEADERS, "Cache-Control": "max-age=300"})

    return [
        Route(f"{PREFIX}/static/{{name}}", static, methods=["GET"]),
        Route(f"{PREFIX}/{{token}}", page, methods=["GET"]),
        Route(f"{PREFIX}/{{token}}/options", options, methods=["POST"]),
        Route(f"{PREFIX}/{{token}}/answer", answer, methods=["POST"]),
    ]
