"""The bank-transfer adapter against a loopback provider the test starts, and its webhook on the bot's web app:
a deposit is a hold, posted when the provider confirms, voided when it fails or times out; a payout that
fails later comes back to the wallet; a bad signature is refused; a redelivered event changes nothing."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from adapters.funding.bank import SIGNATURE_HEADER, BankTransferFunding, sign
from adapters.funding.factory import UnknownFunding, make_funding
from adapters.funding.sandbox import SandboxFunding
from adapters.funding.webhook import PATH, routes
from adapters.web.app import WebContext, WebServer, build_app
from bot.config import Settings, load_settings
from bot.db import migrate_all
from bot.directory import owner_of
from bot.execution import Executor
from ledger import Ledger, create_engine

SECRET = "whsec-test-4826"


class Provider:
    """A loopback bank API: payments are pending until the test settles them; then it POSTs a signed event."""

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self.created = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                assert self.headers["Authorization"] == "Bearer key-1"
                key = self.headers["Idempotency-Key"]
                assert key == body["idempotency_key"]
                if key not in provider.payments:
                    provider.created += 1
                    status = "failed" if body["amount_minor"] > 1_000_000 else "pending"
                    provider.payments[key] = {"id": f"pay_{provider.created}", "status": status, **body}
                out = json.dumps(provider.payments[key]).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def send(self, webhook: str, key: str, status: str, *, secret: str = SECRET, at: int | None = None) -> tuple[int, dict[str, Any]]:
        """Settle a payment and tell the bot, as the provider would (signed)."""
        p = self.payments[key]
        p["status"] = status
        body = json.dumps({"type": f"payment.{status}", "payment": p}).encode()
        req = urllib.request.Request(webhook, data=body, method="POST", headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body, at or int(time.time()))})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def _rig(db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = create_engine(db_url)
    migrate_all(db)
    clock = Clock()
    ledger = Ledger(db, clock=clock)
    settings = load_settings(database_url=db_url, funding="bank", funding_webhook_secret=SECRET, funding_api_url="http://x",
                             pin_key_file=str(tmp_path / "pin.key"))
    provider = Provider()
    funding = BankTransferFunding(provider.url, "key-1", settle_timeout_seconds=3600)
    app = build_app(settings, extra_routes=routes(WebContext(settings, db=db, extra={"ledger": ledger})))
    server = WebServer(app).start_thread()
    executor = Executor(ledger=ledger, funding=funding)
    wallet = executor.wallet(7, "USD", "@alice")
    try:
        yield {"ledger": ledger, "provider": provider, "webhook": server.url + PATH, "executor": executor,
               "wallet": wallet, "clock": clock, "funding": funding}
        assert ledger.check().ok
    finally:
        server.stop()
        provider.stop()
        funding.close()
        ledger.close()
        db.dispose()


@pytest.fixture
def rig(sqlite_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """On SQLite (the settlement's SQL is the ledger's, tested on both)."""
    yield from _rig(sqlite_url, tmp_path)


@pytest.fixture
def rig_both(db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """On SQLite and PostgreSQL."""
    yield from _rig(db_url, tmp_path)


def _deposit(rig: dict[str, Any], key: str, minor: int) -> Any:
    return rig["executor"].run(key, "deposit", {"currency": "USD", "amount": minor, "from_user": 7})


def test_deposit_is_held_then_posted_once_when_the_provider_confirms(rig_both: dict[str, Any]) -> None:
    rig = rig_both
    ledger, wallet = rig["ledger"], rig["wallet"]
    out = _deposit(rig, "dep1", 10000)
    assert (out.ok, out.code) == (True, "pending")
    bal = ledger.balance(wallet)
    assert (bal.posted, bal.credits_pending) == (0, 10000)  # not spendable before the bank settles
    assert _deposit(rig, "dep1", 10000).code == "pending" and rig["provider"].created == 1  # idempotent on the key
    assert rig["provider"].send(rig["webhook"], "dep1", "succeeded") == (200, {"ok": True, "outcome": "posted"})
    assert ledger.balance(wallet).posted == 10000
    assert rig["provider"].send(rig["webhook"], "dep1", "succeeded") == (200, {"ok": True, "outcome": "already"})
    assert ledger.balance(wallet).posted == 10000


def test_failed_and_timed_out_deposits_are_voided(rig: dict[str, Any]) -> None:
    ledger, wallet = rig["ledger"], rig["wallet"]
    _deposit(rig, "dep2", 5000)
    assert rig["provider"].send(rig["webhook"], "dep2", "failed")[1]["outcome"] == "voided"
    _deposit(rig, "dep3", 7000)
    rig["clock"].now += timedelta(seconds=3601)
    assert ledger.expire_pending() == ["dep3:0"]
    assert rig["provider"].send(rig["webhook"], "dep3", "succeeded")[1]["outcome"] == "expired"  # too late: stays void
    bal = ledger.balance(wallet)
    assert (bal.posted, bal.credits_pending) == (0, 0)
    declined = _deposit(rig, "dep4", 2_000_000)  # the provider refuses at once: nothing is held
    assert (declined.ok, declined.code) == (False, "funding_declined")


def test_failed_payout_comes_back(rig: dict[str, Any]) -> None:
    ledger, wallet = rig["ledger"], rig["wallet"]
    _deposit(rig, "dep5", 9000)
    rig["provider"].send(rig["webhook"], "dep5", "succeeded")
    out = rig["executor"].run("wd1", "withdraw", {"currency": "USD", "amount": 4000, "from_user": 7})
    assert out.ok and ledger.balance(wallet).posted == 5000
    assert rig["provider"].send(rig["webhook"], "wd1", "failed")[1]["outcome"] == "reversed"
    assert rig["provider"].send(rig["webhook"], "wd1", "failed")[1]["outcome"] == "already"
    assert ledger.balance(wallet).posted == 9000


def test_bad_or_stale_signature_is_refused(rig: dict[str, Any]) -> None:
    _deposit(rig, "dep6", 1000)
    assert rig["provider"].send(rig["webhook"], "dep6", "succeeded", secret="not-the-secret")[0] == 403
    assert rig["provider"].send(rig["webhook"], "dep6", "succeeded", at=int(time.time()) - 3600)[0] == 403
    assert rig["ledger"].balance(rig["wallet"]).posted == 0


def test_the_setting_selects_the_adapter() -> None:
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    assert isinstance(make_funding(base), SandboxFunding)
    bank = make_funding(base.model_copy(update={"funding": "bank", "funding_api_url": "http://127.0.0.1:1",
                                                "funding_webhook_secret": SECRET}))
    assert isinstance(bank, BankTransferFunding) and bank.account_kind == "provider_funding"
    with pytest.raises(UnknownFunding):
        make_funding(base.model_copy(update={"funding": "bank"}))
    with pytest.raises(UnknownFunding):
        make_funding(base.model_copy(update={"funding": "paypal"}))
    assert routes(WebContext(base)) == []  # no webhook unless FUNDING=bank
    assert owner_of(7) == "user:7"
