"""The passkey tables: people's WebAuthn credentials and the one-time links of the passkey page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class PasskeyCredential(SQLModel, table=True):
    """One person's passkey: a WebAuthn credential registered on the passkey page."""

    __tablename__ = "bot_passkeys"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    credential_id: str = Field(unique=True)  # base64url of the credential's raw id
    public_key: str = Field(sa_column=Column(Text, nullable=False))  # base64url of the COSE public key
    sign_count: int = 0
    transports: str = "[]"  # JSON list: internal, hybrid, usb, nfc, ble
    name: str
    aaguid: str = ""
    backed_up: bool = False  # a synced passkey (e.g. in a phone's cloud keychain)
    created_at: datetime
    last_used_at: datetime | None = None


class PasskeyLink(SQLModel, table=True):
    """A one-time link to the passkey page: enrolment, or the step-up of one challenge of one card."""

    __tablename__ = "bot_passkey_links"

    token: str = Field(primary_key=True)  # random, in the URL
    purpose: str  # enrol, stepup
    user_id: int = Field(foreign_key="bot_users.id", index=True)
    messenger: str
    external_id: str  # the person's id on the messenger (a Mini App's initData must name it)
    lang: str = "en"
    challenge_id: int | None = Field(default=None, index=True)  # step-up: the challenge it answers
    action_id: str | None = None
    digest: str | None = None  # step-up: the digest of the card it was made for
    nonce: str | None = None  # the fresh half of the WebAuthn challenge, new each time the page asks
    challenge: str | None = None  # enrolment: the registration challenge (base64url)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # the assertion posted, until checked
    outcome: str | None = None  # the last answer's result: "ok", or a refusal's reason (the page shows it)
