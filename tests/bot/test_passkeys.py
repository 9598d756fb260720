"""Passkeys without a browser (issue 16): enrolment by a one-time link, and step-up assertions bound to
the card by their challenge; every refusal named (a software authenticator signs like a browser's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import Session, select
from webauthn.helpers import base64url_to_bytes

from adapters.local.world import LocalWorld
from bot import passkeys as pk
from bot.models import Action, Challenge, PasskeyCredential, PasskeyLink, User
from bot.stepup import PinCheck
from tests.bot.conftest import START, make_world
from tests.bot.test_engine import balance, onboard
from tests.tools.soft_authenticator import SoftAuthenticator

ORIGIN = "https://finbot.example.com"
RP = pk.RelyingParty("finbot.example.com", (ORIGIN,))
TTL = timedelta(minutes=10)


def user(s: Session, handle: str) -> User:
    return s.exec(select(User).where(User.handle == handle)).one()


def enrol(w: LocalWorld, handle: str, auth: SoftAuthenticator | None = None, name: str = "phone") -> SoftAuthenticator:
    auth = auth or SoftAuthenticator(RP.rp_id, ORIGIN)
    with Session(w.db, expire_on_commit=False) as s:
        u = user(s, handle)
        link = pk.new_link(s, purpose=pk.ENROL, user=u, messenger="local", external_id=handle, now=w.now(), ttl=TTL)
        options = pk.registration_options(s, RP, link, u, handle)
        pk.finish_registration(s, RP, link, auth.register(options), name, w.now())
        s.commit()
    return auth


def open_card(w: LocalWorld, handle: str, text: str) -> int:
    """A card confirmed, waiting for its step-up: the challenge's id."""
    w.render(w.say(handle, "dm", text))
    w.render(w.press(handle, "dm", "Confirm") or [])
    with Session(w.db) as s:
        u = user(s, handle)
        ch = s.exec(select(Challenge).where(Challenge.user_id == u.id, Challenge.status == "open")
                    .order_by(Challenge.id.desc())).first()  # type: ignore[union-attr]
        assert ch is not None and ch.id is not None
        return ch.id


def stepup_link(w: LocalWorld, handle: str, challenge_id: int) -> str:
    with Session(w.db, expire_on_commit=False) as s:
        link = pk.new_link(s, purpose=pk.STEPUP, user=user(s, handle), messenger="local", external_id=handle,
                           now=w.now(), ttl=TTL, challenge=s.get(Challenge, challenge_id))
        s.commit()
        return link.token


def options(w: LocalWorld, token: str) -> dict[str, Any]:
    with Session(w.db) as s:
        link = pk.open_link(s, token, w.now(), purpose=pk.STEPUP)
        pk.card_for(s, link, w.now())
        got = pk.authentication_options(s, RP, link)
        s.commit()
        return got


def verify(w: LocalWorld, token: str, answer: dict[str, Any], rp: pk.RelyingParty = RP) -> pk.Refusal | None:
    with Session(w.db) as s:
        try:
            link = pk.open_link(s, token, w.now(), purpose=pk.STEPUP)
            pk.card_for(s, link, w.now())
            pk.verify_assertion(s, rp, link, answer, w.now())
            pk.use_link(s, link, w.now())
        except pk.PasskeyRefused as exc:
            return exc.reason
        s.commit()
        return None


def _people(db_url: str, tmp_path: Path) -> Iterator[LocalWorld]:
    w = make_world(db_url, tmp_path / "out")
    onboard(w, "alice", topup="$100")
    onboard(w, "bob", pin="5182")
    yield w
    report = w.engine.ledger.check()
    assert report.ok, report.problems
    w.db.dispose()


@pytest.fixture
def people(sqlite_url: str, tmp_path: Path) -> Iterator[LocalWorld]:
    """Alice (with $100) and Bob, on SQLite (the refusals below also run on PostgreSQL)."""
    yield from _people(sqlite_url, tmp_path)


@pytest.fixture
def people_any(db_url: str, tmp_path: Path) -> Iterator[LocalWorld]:
    """Alice and Bob on SQLite and on PostgreSQL."""
    yield from _people(db_url, tmp_path)


def test_enrolment_stores_the_passkey_its_link_works_once_and_refuses_what_is_not_ours(people: LocalWorld) -> None:
    w = people
    auth = SoftAuthenticator(RP.rp_id, ORIGIN)
    with Session(w.db, expire_on_commit=False) as s:
        u = user(s, "alice")
        link = pk.new_link(s, purpose=pk.ENROL, user=u, messenger="local", external_id="alice", now=w.now(), ttl=TTL)
        opts = pk.registration_options(s, RP, link, u, "alice")
        sel = opts["authenticatorSelection"]
        assert (sel["residentKey"], sel["userVerification"]) == ("preferred", "required")
        assert opts["rp"] == {"id": "finbot.example.com", "name": "finbot"}
        answer = auth.register(opts)
        row = pk.finish_registration(s, RP, link, answer, "  my phone\x00 ", w.now())
        s.commit()
        assert (row.name, row.sign_count, row.transports) == ("my phone", 0, '["internal"]')
        assert base64url_to_bytes(row.credential_id) == auth.credential_id
        with pytest.raises(pk.PasskeyRefused) as used:
            pk.open_link(s, link.token, w.now())
        assert used.value.reason is pk.Refusal.link_used
        # a second passkey: the first is excluded from the options, and its name defaults
        link2 = pk.new_link(s, purpose=pk.ENROL, user=u, messenger="local", external_id="alice", now=w.now(), ttl=TTL)
        opts2 = pk.registration_options(s, RP, link2, u, "alice")
        assert [c["id"] for c in opts2["excludeCredentials"]] == [row.credential_id]
        second = pk.finish_registration(s, RP, link2, SoftAuthenticator(RP.rp_id, ORIGIN).register(opts2), "", w.now())
        assert second.name == "Passkey 2"
        assert [c.name for c in pk.credentials(s, u.id or 0)] == ["my phone", "Passkey 2"]
        assert pk.remove(s, u.id or 0, 1) is not None and pk.remove(s, u.id or 0, 5) is None
        assert [c.name for c in pk.credentials(s, u.id or 0)] == ["Passkey 2"]
        s.commit()
    # a link refuses a foreign origin or an authenticator that does not verify the person, and expires
    with Session(w.db, expire_on_commit=False) as s:
        u = user(s, "bob")
        link = pk.new_link(s, purpose=pk.ENROL, user=u, messenger="local", external_id="bob", now=w.now(), ttl=TTL)
        opts = pk.registration_options(s, RP, link, u, "bob")
        for auth, origin, reason in ((SoftAuthenticator(RP.rp_id, ORIGIN), "https://evil.example.net", pk.Refusal.wrong_origin),
                                     (SoftAuthenticator(RP.rp_id, ORIGIN, uv=False), None, pk.Refusal.user_not_verified)):
            with pytest.raises(pk.PasskeyRefused) as refused:
                pk.finish_registration(s, RP, link, auth.register(opts, origin=origin), "x", w.now())
            assert refused.value.reason is reason
        assert pk.credentials(s, u.id or 0) == []
        with pytest.raises(pk.PasskeyRefused) as late:
            pk.open_link(s, link.token, w.now() + TTL + timedelta(seconds=1))
        assert late.value.reason is pk.Refusal.link_expired
        with pytest.raises(pk.PasskeyRefused) as unknown:
            pk.open_link(s, "no-such-token", w.now())
        assert unknown.value.reason is pk.Refusal.link_unknown


def test_the_challenge_is_the_cards_digest_and_a_fresh_nonce_and_passes_once(people: LocalWorld) -> None:
    w = people
    auth = enrol(w, "alice")
    token = stepup_link(w, "alice", open_card(w, "alice", "send $20 to @bob"))
    first, second = options(w, token), options(w, token)
    with Session(w.db) as s:
        link = s.get(PasskeyLink, token)
        assert link is not None and link.nonce and link.digest
        action = s.get(Action, link.action_id)
        assert action is not None and link.digest == action.digest
        assert base64url_to_bytes(second["challenge"]) == pk.stepup_challenge(action.digest, link.nonce)
    assert first["challenge"] != second["challenge"]  # a fresh nonce each time the page asks
    assert second["userVerification"] == "preferred"  # asked for; required by the server (refusal below)
    assert len(second["allowCredentials"]) == 1
    # a good assertion passes once; the same again is refused
    answer = auth.assert_(options(w, token))
    assert verify(w, token, answer) is None
    with Session(w.db) as s:
        cred = s.exec(select(PasskeyCredential)).one()
        assert cred.sign_count == 1 and cred.last_used_at is not None
    assert verify(w, token, answer) is pk.Refusal.link_used


def test_refusals_each_with_its_reason(people_any: LocalWorld) -> None:
    w = people_any
    alice = enrol(w, "alice")
    bob = enrol(w, "bob")
    card_a = stepup_link(w, "alice", open_card(w, "alice", "send $20 to @bob"))
    card_b = stepup_link(w, "alice", open_card(w, "alice", "send $30 to @bob"))
    opts_a = options(w, card_a)
    opts_b = options(w, card_b)
    # an assertion signed for card A does not confirm card B (dynamic linking)
    assert verify(w, card_b, alice.assert_(opts_a)) is pk.Refusal.challenge_mismatch
    # a replay of an assertion for an older nonce of the same card
    old = alice.assert_(opts_b)
    opts_b = options(w, card_b)
    assert verify(w, card_b, old) is pk.Refusal.challenge_mismatch
    # a foreign passkey: bob's, on alice's card
    assert verify(w, card_b, bob.assert_(opts_b)) is pk.Refusal.unknown_credential
    # another website, another relying party
    assert verify(w, card_b, alice.assert_(opts_b, origin="https://finbot.example.com.evil.net")) is pk.Refusal.wrong_origin
    assert verify(w, card_b, alice.assert_(opts_b, rp_id="evil.example.net")) is pk.Refusal.wrong_rp
    # the server's relying party differs from the one the passkey was made for
    other_rp = pk.RelyingParty("other.example.com", (ORIGIN,))
    assert verify(w, card_b, alice.assert_(opts_b), rp=other_rp) is pk.Refusal.wrong_rp
    # user verification missing
    alice.uv = False
    assert verify(w, card_b, alice.assert_(opts_b)) is pk.Refusal.user_not_verified
    alice.uv = True
    # a counter that went backwards (a cloned authenticator)
    assert verify(w, card_b, alice.assert_(opts_b, count=1)) is None  # card B passes at count 1...
    card_c = stepup_link(w, "alice", open_card(w, "alice", "send $5 to @bob"))
    assert verify(w, card_c, alice.assert_(options(w, card_c), count=1)) is pk.Refusal.sign_count
    # a signature that does not check out
    opts_c = options(w, card_c)
    forged = alice.assert_(opts_c)
    forged["response"]["signature"] = bob.assert_(opts_c)["response"]["signature"]
    assert verify(w, card_c, forged) is pk.Refusal.bad_signature
    # something that is not an assertion
    assert verify(w, card_c, {"id": "x"}) is pk.Refusal.malformed
    # an assertion for card A, now that A's own nonce was replaced by fresh options: still its own card
    assert verify(w, card_a, alice.assert_(options(w, card_a))) is None
    # a card that changed after its link was made, or closed
    auth = alice
    token = stepup_link(w, "alice", open_card(w, "alice", "send $20 to @bob"))
    opts = options(w, token)
    with Session(w.db) as s:
        link = s.get(PasskeyLink, token)
        assert link is not None
        a = s.get(Action, link.action_id)
        assert a is not None
        a.payload = a.payload.replace("2000", "9000")  # the card changed after the link was made
        s.commit()
    assert verify(w, token, auth.assert_(opts)) is pk.Refusal.tampered
    token2 = stepup_link(w, "alice", open_card(w, "alice", "send $10 to @bob"))
    w.render(w.say("alice", "dm", "/cancel"))
    assert verify(w, token2, auth.assert_(opts)) is pk.Refusal.not_open


def test_telegram_links_act_only_for_the_cards_telegram_user() -> None:
    now = START
    link = PasskeyLink(token="t", purpose=pk.ENROL, user_id=1, messenger="telegram", external_id="5001",
                       created_at=now, expires_at=now + TTL)
    pk.check_person(link, "5001")
    for who in ("5002", None):
        with pytest.raises(pk.PasskeyRefused) as refused:
            pk.check_person(link, who)
        assert refused.value.reason is pk.Refusal.wrong_person
    pk.check_person(PasskeyLink(token="l", purpose=pk.ENROL, user_id=1, messenger="local", external_id="alice",
                                created_at=now, expires_at=now + TTL), None)  # elsewhere the one-time link is the proof


# ------------------------------------------------------------------ through the engine (the page's answer as a press)


def web(w: LocalWorld) -> Any:
    """The passkey page's work functions on this world (what the web app runs for a request)."""
    from adapters.web import passkey as page
    from adapters.web.app import WebContext

    ctx = WebContext(w.engine.settings, db=w.db, engine=w.engine)
    return SimpleNamespace(
        options=lambda token: page._options_work(ctx, token, {})[0],
        answer=lambda token, cred: page._stepup_work(ctx, token, {"credential": cred}),
    )


def passkey_world(sqlite_url: str, tmp_path: Path, **settings: Any) -> tuple[LocalWorld, SoftAuthenticator]:
    w = make_world(sqlite_url, tmp_path / "out", public_base_url=ORIGIN, **settings)
    onboard(w, "alice", topup="$1000")
    onboard(w, "bob", pin="5182")
    return w, enrol(w, "alice")


def confirm(w: LocalWorld, text: str) -> tuple[str, list[dict[str, Any]]]:
    """A card confirmed by a person with a passkey: its step-up link token and what was shown."""
    shown = w.render(w.say("alice", "dm", text))
    shown += w.render(w.press("alice", "dm", "Confirm") or [])
    links = [url for item in shown for _label, url in item.get("links", [])]
    assert links, shown
    return links[-1].rsplit("/", 1)[1], shown


def test_a_passkey_answer_through_the_engine_moves_the_money_once(sqlite_url: str, tmp_path: Path) -> None:
    w, auth = passkey_world(sqlite_url, tmp_path)
    page = web(w)
    token, shown = confirm(w, "send $20 to @bob")
    question = shown[-1]
    assert question["buttons"][0] == ["Confirm with passkey"] and question["buttons"][1] == ["1", "2", "3"]
    lang, reason, opts = page.options(token)
    assert reason is None
    (lang, reason, message), replies = page.answer(token, auth.assert_(opts))
    assert reason is None and "Confirmed with your passkey" in message
    said = [r.text for r in replies]
    assert "Passkey accepted. Working on it…" in said and balance(w, "bob") == 2000
    (_, again, _), replies = page.answer(token, auth.assert_(opts))
    assert again is pk.Refusal.link_used and replies == [] and balance(w, "bob") == 2000
    # above STEPUP_TOTP_ABOVE without TOTP enrolled: the passkey alone, as the strong factor
    token, shown = confirm(w, "send $600 to @bob")
    assert shown[-1]["buttons"] == [["Confirm with passkey"]]
    _, _, opts = page.options(token)
    (_, reason, _), _ = page.answer(token, auth.assert_(opts))
    assert reason is None and balance(w, "bob") == 62000
    w.db.dispose()


def test_without_the_pin_fallback_a_typed_pin_confirms_nothing(sqlite_url: str, tmp_path: Path) -> None:
    w, auth = passkey_world(sqlite_url, tmp_path, passkey_pin_fallback=False)
    token, shown = confirm(w, "send $20 to @bob")
    assert shown[-1]["buttons"] == [["Confirm with passkey"]]  # no keypad
    said = w.render(w.say("alice", "dm", "4826"))
    assert "takes your passkey, not your PIN" in " ".join(str(i["text"]) for i in said)
    assert balance(w, "bob") == 0
    page = web(w)
    _, _, opts = page.options(token)
    (_, reason, _), _ = page.answer(token, auth.assert_(opts))
    assert reason is None and balance(w, "bob") == 2000
    w.db.dispose()


def test_failed_passkey_answers_lock_step_up_and_cancel_the_card(sqlite_url: str, tmp_path: Path) -> None:
    w, auth = passkey_world(sqlite_url, tmp_path)
    auth.uv = False
    page = web(w)
    token, _ = confirm(w, "send $20 to @bob")
    reasons = []
    for _ in range(w.engine.settings.pin_max_attempts):
        _, _, opts = page.options(token)
        if not opts:
            break
        (_, reason, _), replies = page.answer(token, auth.assert_(opts))
        reasons.append(reason)
    assert reasons[:-1] == [pk.Refusal.user_not_verified] * (len(reasons) - 1) and reasons[-1] is pk.Refusal.locked
    assert any("confirmations are locked" in r.text for r in replies)
    with Session(w.db) as s:
        assert user(s, "alice").stepup_locked_until is not None
        assert s.exec(select(Action).where(Action.status == "cancelled", Action.result == "stepup_locked")).first()
    assert balance(w, "bob") == 0
    stepup = w.engine.stepup
    with Session(w.db, expire_on_commit=False) as s:  # the same lockout as wrong PINs: even a good answer waits
        u = user(s, "alice")
        assert stepup.answer(s, u, w.now(), ok=True).status is PinCheck.locked
        later = w.now() + timedelta(seconds=w.engine.settings.pin_lockout_seconds + 1)
        assert stepup.answer(s, u, later, ok=True).ok
    w.db.dispose()
