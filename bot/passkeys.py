"""Passkeys (WebAuthn, py_webauthn 3): enrolment by a one-time link, and step-up assertions whose
challenge is derived from the card's digest and a fresh nonce, so the signature is bound to this
amount and this payee (PSD2 dynamic linking). Every refusal has a named reason."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    ClientDataType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from bot.actions import digest as payload_digest
from bot.clock import aware
from bot.models import Action, Challenge, PasskeyCredential, PasskeyLink, User

ENROL = "enrol"
STEPUP = "stepup"
NAME_LIMIT = 40
CHALLENGE_CONTEXT = b"finbot-passkey-stepup/1"


class Refusal(StrEnum):
    """Why the passkey page refused something (each has a sentence in `bot.passkey_words`)."""

    link_unknown = "link_unknown"  # no such link
    link_expired = "link_expired"
    link_used = "link_used"  # a link works once: a replayed assertion ends here
    wrong_purpose = "wrong_purpose"
    wrong_person = "wrong_person"  # a Mini App opened by someone else, or initData forged / stale
    not_open = "not_open"  # the card is no longer waiting for its step-up (confirmed, cancelled, expired)
    tampered = "tampered"  # the card changed after the link was made
    locked = "locked"  # too many failed step-ups: the existing lockout
    no_challenge = "no_challenge"  # an answer without asking for options first
    malformed = "malformed"
    unknown_credential = "unknown_credential"  # a passkey that is not this person's (foreign)
    challenge_mismatch = "challenge_mismatch"  # signed for another card, another nonce, or replayed
    wrong_type = "wrong_type"
    wrong_origin = "wrong_origin"
    wrong_rp = "wrong_rp"
    user_not_present = "user_not_present"
    user_not_verified = "user_not_verified"
    sign_count = "sign_count"  # the counter went backwards: a cloned authenticator?
    bad_signature = "bad_signature"
    registration_failed = "registration_failed"
    already_registered = "already_registered"


#: Refusals that count as a failed step-up answer toward the lockout (a wrong "PIN"); the others
#: are stale links or broken requests, which prove nothing about who is answering.
COUNTED = frozenset({Refusal.unknown_credential, Refusal.challenge_mismatch, Refusal.wrong_origin,
                     Refusal.wrong_rp, Refusal.user_not_present, Refusal.user_not_verified,
                     Refusal.sign_count, Refusal.bad_signature})


class PasskeyRefused(Exception):
    """A passkey request refused, with its reason."""

    def __init__(self, reason: Refusal, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys belong to: the relying-party id (a domain), its name and the allowed origins."""

    rp_id: str
    origins: tuple[str, ...]
    name: str = "finbot"

    @property
    def enabled(self) -> bool:
        return bool(self.rp_id and self.origins)


def user_handle(user_id: int) -> bytes:
    """The WebAuthn user handle of a person: opaque bytes, no name or number in the clear."""
    return hashlib.sha256(b"finbot-user-handle:" + str(user_id).encode()).digest()[:16]


def stepup_challenge(digest: str, nonce: str) -> bytes:
    """The WebAuthn challenge of a step-up: SHA-256 over the card's digest and a fresh nonce. An
    assertion signs it, so the signature holds only for this card (amount, payee, fee, rate) and
    this one request."""
    return hashlib.sha256(CHALLENGE_CONTEXT + b"\x00" + digest.encode() + b"\x00" + nonce.encode()).digest()


# --------------------------------------------------------------------------- links


def new_link(s: Session, *, purpose: str, user: User, messenger: str, external_id: str, now: datetime,
             ttl: timedelta, challenge: Challenge | None = None) -> PasskeyLink:
    """A one-time link (its random token) to the passkey page: enrolment, or one challenge's step-up."""
    link = PasskeyLink(token=secrets.token_urlsafe(24), purpose=purpose, user_id=user.id or 0, messenger=messenger,
                       external_id=external_id, lang=user.lang, created_at=now, expires_at=now + ttl)
    if challenge is not None:
        link.challenge_id, link.action_id, link.digest = challenge.id, challenge.action_id, challenge.digest
        link.expires_at = min(now + ttl, aware(challenge.expires_at) or now + ttl)
    s.add(link)
    s.flush()
    return link


def open_link(s: Session, token: str, now: datetime, *, purpose: str | None = None,
              lock: bool = False) -> PasskeyLink:
    """The link of a token, still usable (refused: unknown, used, expired, of another purpose)."""
    if not token or len(token) > 64:
        raise PasskeyRefused(Refusal.link_unknown)
    query = select(PasskeyLink).where(PasskeyLink.token == token)
    if lock:
        s.flush()
        query = query.with_for_update().execution_options(populate_existing=True)
    link = s.exec(query).first()
    if link is None:
        raise PasskeyRefused(Refusal.link_unknown)
    if purpose is not None and link.purpose != purpose:
        raise PasskeyRefused(Refusal.wrong_purpose)
    if link.used_at is not None:
        raise PasskeyRefused(Refusal.link_used)
    if now > aware(link.expires_at):
        raise PasskeyRefused(Refusal.link_expired)
    return link


def use_link(s: Session, link: PasskeyLink, now: datetime) -> None:
    """Spend a link: exactly one request wins (the others see it used)."""
    claimed = s.execute(sa.update(PasskeyLink).where(col(PasskeyLink.token) == link.token,
                                                     col(PasskeyLink.used_at).is_(None))
                        .values(used_at=now, nonce=None, challenge=None)).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        raise PasskeyRefused(Refusal.link_used)
    link.used_at = now


def check_person(link: PasskeyLink, acting_external_id: str | None) -> None:
    """On a messenger whose page proves who opened it (a Telegram Mini App's initData), only the
    link's person may act: `acting_external_id` is who the messenger's signed data names."""
    if link.messenger == "telegram" and acting_external_id != link.external_id:
        raise PasskeyRefused(Refusal.wrong_person)


def card_for(s: Session, link: PasskeyLink, now: datetime) -> tuple[Challenge, Action]:
    """The open challenge and its card a step-up link is for (refused: no longer open, changed)."""
    ch = s.get(Challenge, link.challenge_id) if link.challenge_id is not None else None
    a = s.get(Action, ch.action_id) if ch is not None else None
    if ch is None or a is None or ch.status != "open" or a.status != "awaiting_stepup" or ch.user_id != link.user_id:
        raise PasskeyRefused(Refusal.not_open)
    if now > aware(ch.expires_at):
        raise PasskeyRefused(Refusal.not_open)
    if payload_digest(a.payload) != a.digest or a.digest != ch.digest or ch.digest != link.digest:
        raise PasskeyRefused(Refusal.tampered)
    return ch, a


# --------------------------------------------------------------------------- credentials


def credentials(s: Session, user_id: int) -> list[PasskeyCredential]:
    """A person's passkeys, oldest first."""
    return list(s.exec(select(PasskeyCredential).where(PasskeyCredential.user_id == user_id)
                       .order_by(col(PasskeyCredential.id))).all())


def has_passkey(s: Session, user_id: int | None) -> bool:
    """Whether the person has at least one passkey."""
    if user_id is None:
        return False
    return s.exec(select(PasskeyCredential.id).where(PasskeyCredential.user_id == user_id).limit(1)).first() is not None


def remove(s: Session, user_id: int, number: int) -> PasskeyCredential | None:
    """Remove a person's passkey by its number in `credentials` (1-based); the removed one, or None."""
    own = credentials(s, user_id)
    if not 1 <= number <= len(own):
        return None
    gone = own[number - 1]
    s.delete(gone)
    s.flush()
    return gone


def _transports(raw: Any) -> list[AuthenticatorTransport]:
    out: list[AuthenticatorTransport] = []
    for value in raw if isinstance(raw, list) else []:
        try:
            out.append(AuthenticatorTransport(str(value)))
        except ValueError:
            continue
    return out


def _descriptors(creds: list[PasskeyCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(c.credential_id),
                                          transports=_transports(json.loads(c.transports or "[]")) or None)
            for c in creds]


# --------------------------------------------------------------------------- enrolment


def registration_options(s: Session, rp: RelyingParty, link: PasskeyLink, user: User, display: str) -> dict[str, Any]:
    """Options for navigator.credentials.create(): a resident key preferred, user verification
    required, the person's passkeys excluded; the challenge is kept on the link."""
    options = generate_registration_options(
        rp_id=rp.rp_id, rp_name=rp.name, user_id=user_handle(user.id or 0), user_name=display,
        user_display_name=display, timeout=120_000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=_descriptors(credentials(s, user.id or 0)),
    )
    link.challenge = bytes_to_base64url(options.challenge)
    s.add(link)
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def finish_registration(s: Session, rp: RelyingParty, link: PasskeyLink, credential: dict[str, Any] | str,
                        name: str, now: datetime) -> PasskeyCredential:
    """Verify the browser's answer to the registration options and store the passkey (the link is spent)."""
    if not link.challenge:
        raise PasskeyRefused(Refusal.no_challenge)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(link.challenge),
            expected_rp_id=rp.rp_id, expected_origin=list(rp.origins), require_user_verification=True)
    except InvalidRegistrationResponse as exc:
        text = str(exc)
        reason = (Refusal.user_not_verified if "verif" in text.lower() else
                  Refusal.wrong_origin if "origin" in text.lower() else
                  Refusal.wrong_rp if "RP ID" in text else
                  Refusal.challenge_mismatch if "challenge" in text.lower() else Refusal.registration_failed)
        raise PasskeyRefused(reason, text) from exc
    except Exception as exc:  # a body that is not a credential at all
        raise PasskeyRefused(Refusal.malformed, str(exc)) from exc
    cred_id = bytes_to_base64url(verified.credential_id)
    if s.exec(select(PasskeyCredential.id).where(PasskeyCredential.credential_id == cred_id)).first() is not None:
        raise PasskeyRefused(Refusal.already_registered)
    raw = credential if isinstance(credential, dict) else json.loads(credential)
    transports = raw.get("response", {}).get("transports") or []
    use_link(s, link, now)
    row = PasskeyCredential(
        user_id=link.user_id, credential_id=cred_id, public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count, transports=json.dumps([str(t) for t in transports if isinstance(t, str)]),
        name=clean_name(name) or default_name(s, link.user_id), aaguid=str(verified.aaguid),
        backed_up=bool(verified.credential_backed_up), created_at=now)
    s.add(row)
    s.flush()
    return row


def clean_name(name: str) -> str:
    """A passkey's name as shown in /passkey: printable, trimmed, at most 40 characters."""
    kept = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    return kept[:NAME_LIMIT]


def default_name(s: Session, user_id: int) -> str:
    """'Passkey N' for the person's N-th passkey."""
    return f"Passkey {len(credentials(s, user_id)) + 1}"


# --------------------------------------------------------------------------- step-up


def authentication_options(s: Session, rp: RelyingParty, link: PasskeyLink) -> dict[str, Any]:
    """Options for navigator.credentials.get() for one step-up link: a fresh nonce each time (the
    page asks again after a failure), the challenge derived from the card's digest and that nonce,
    the person's own passkeys allowed."""
    if link.digest is None:
        raise PasskeyRefused(Refusal.wrong_purpose)
    own = credentials(s, link.user_id)
    link.nonce = secrets.token_urlsafe(16)
    s.add(link)
    options = generate_authentication_options(
        rp_id=rp.rp_id, challenge=stepup_challenge(link.digest, link.nonce), timeout=120_000,
        allow_credentials=_descriptors(own), user_verification=UserVerificationRequirement.PREFERRED)
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def verify_assertion(s: Session, rp: RelyingParty, link: PasskeyLink, credential: dict[str, Any] | str,
                     now: datetime) -> PasskeyCredential:
    """Check an assertion against this link's card: the passkey is the person's own, the challenge is
    the one derived from the card's digest and this link's current nonce (so an assertion signed for
    another card, or replayed, fails), the origin and relying-party id are ours, the person was
    verified (fingerprint, face, screen lock), the signature counter moved forward and the
    signature holds. Updates the passkey's counter and last use; does not spend the link."""
    if link.digest is None:
        raise PasskeyRefused(Refusal.wrong_purpose)
    if not link.nonce:
        raise PasskeyRefused(Refusal.no_challenge)
    try:
        parsed = parse_authentication_credential_json(credential)
        client = parse_client_data_json(parsed.response.client_data_json)
        auth = parse_authenticator_data(parsed.response.authenticator_data)
    except Exception as exc:
        raise PasskeyRefused(Refusal.malformed, str(exc)) from exc
    cred_id = bytes_to_base64url(parsed.raw_id)
    stored = s.exec(select(PasskeyCredential).where(PasskeyCredential.credential_id == cred_id)).first()
    if stored is None or stored.user_id != link.user_id:
        raise PasskeyRefused(Refusal.unknown_credential)
    expected = stepup_challenge(link.digest, link.nonce)
    if client.type != ClientDataType.WEBAUTHN_GET:
        raise PasskeyRefused(Refusal.wrong_type, str(client.type))
    if client.challenge != expected:
        raise PasskeyRefused(Refusal.challenge_mismatch)
    if client.origin not in rp.origins:
        raise PasskeyRefused(Refusal.wrong_origin, client.origin)
    if auth.rp_id_hash != hashlib.sha256(rp.rp_id.encode()).digest():
        raise PasskeyRefused(Refusal.wrong_rp)
    if not auth.flags.up:
        raise PasskeyRefused(Refusal.user_not_present)
    if not auth.flags.uv:
        raise PasskeyRefused(Refusal.user_not_verified)
    if (auth.sign_count > 0 or stored.sign_count > 0) and auth.sign_count <= stored.sign_count:
        raise PasskeyRefused(Refusal.sign_count, f"{auth.sign_count} <= {stored.sign_count}")
    try:
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=expected, expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins), credential_public_key=base64url_to_bytes(stored.public_key),
            credential_current_sign_count=stored.sign_count, require_user_verification=True)
    except InvalidAuthenticationResponse as exc:
        raise PasskeyRefused(Refusal.bad_signature, str(exc)) from exc
    except Exception as exc:
        raise PasskeyRefused(Refusal.malformed, str(exc)) from exc
    stored.sign_count = verified.new_sign_count
    stored.backed_up = bool(verified.credential_backed_up)
    stored.last_used_at = now
    s.add(stored)
    return stored
