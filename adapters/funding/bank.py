"""A bank-transfer provider's API over httpx: payments in and out, settled later by a signed webhook.

The shape is the common one of card acquirers and open-banking APIs: `POST {base}/v1/payments` with an
idempotency key creates a collection or a payout and answers its status (`pending` until the bank
settles; `succeeded`; `failed`); the provider then POSTs a signed event to the webhook
(adapters/funding/webhook.py). Retrying with the same key returns the same payment, never a second one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

import httpx

from bot.funding import FundingResult

log = logging.getLogger("finbot.funding.bank")

SIGNATURE_HEADER = "Finbot-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The webhook's signature header value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str | None, now: float | None = None) -> bool:
    """Whether a webhook's signature is the provider's and recent (replays of old events are refused)."""
    if not secret or not header:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > TOLERANCE_SECONDS:
        return False
    want = sign(secret, body, ts).split("v1=", 1)[1]
    return hmac.compare_digest(want, parts.get("v1", ""))


class BankTransferFunding:
    """Deposits and payouts through the provider's API; deposits settle later (a pending hold until then)."""

    account_kind = "provider_funding"

    def __init__(self, base_url: str, api_key: str, *, settle_timeout_seconds: int = 86400,
                 client: httpx.Client | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.settle_timeout_seconds = settle_timeout_seconds
        self._client = client or httpx.Client(timeout=timeout)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _create(self, direction: str, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        body = {"idempotency_key": key, "direction": direction, "amount_minor": amount_minor, "currency": currency,
                "customer_ref": user_ref}
        try:
            resp = self._client.post(f"{self.base_url}/v1/payments", json=body,
                                     headers={**self._headers, "Idempotency-Key": key})
        except httpx.HTTPError as exc:
            log.warning("provider unreachable for %s %s: %s", direction, key, exc)
            return FundingResult(False, reason="provider_unreachable")
        if resp.status_code >= 500:
            return FundingResult(False, reason="provider_unavailable")
        try:
            data: dict[str, Any] = resp.json()
        except ValueError:
            return FundingResult(False, reason="provider_bad_answer")
        if resp.status_code >= 400:
            return FundingResult(False, reason=str(data.get("error") or f"provider_http_{resp.status_code}")[:80])
        status = str(data.get("status", ""))
        ref = str(data.get("id", ""))
        if status == "succeeded":
            return FundingResult(True, reference=ref)
        if status == "pending":
            return FundingResult(True, reference=ref, pending=True)
        return FundingResult(False, reference=ref, reason=str(data.get("failure_reason") or "declined")[:80])

    def collect(self, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        """Ask the provider to pull money in; usually pending until the bank settles."""
        return self._create("collect", key, user_ref, amount_minor, currency)

    def payout(self, key: str, user_ref: str, amount_minor: int, currency: str) -> FundingResult:
        """Ask the provider to pay out; a payout that later fails is sent back to the wallet (bot/settlement.py)."""
        return self._create("payout", key, user_ref, amount_minor, currency)
