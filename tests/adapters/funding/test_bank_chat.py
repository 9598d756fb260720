"""A top-up through the bank-transfer provider, end to end in the terminal chat: the card, the PIN, the hold
("requested", not spendable), the provider's signed webhook on the bot's web app, the money and the message."""

from __future__ import annotations

from pathlib import Path

from adapters.funding.bank import BankTransferFunding
from adapters.funding.webhook import PATH, routes
from adapters.local.world import LocalWorld
from adapters.web.app import WebContext, WebServer, build_app
from bot.bootstrap import build_engine
from bot.config import load_settings
from ledger import create_engine
from tests.adapters.funding.test_bank import SECRET, Provider
from tests.bot.conftest import START
from tests.bot.test_engine import balance, onboard, texts


def test_a_bank_top_up_is_requested_then_arrives_when_the_provider_confirms(sqlite_url: str, tmp_path: Path) -> None:
    provider = Provider()
    settings = load_settings(database_url=sqlite_url, output_dir=tmp_path / "out", telegram_bot_token="",
                             pin_key_file=str(tmp_path / "pin.key"), funding="bank", funding_api_url=provider.url,
                             funding_api_key="key-1", funding_webhook_secret=SECRET)
    db = create_engine(sqlite_url)
    w = LocalWorld(None, db, tmp_path / "out")
    w.set_now(START)
    funding = BankTransferFunding(provider.url, "key-1", settle_timeout_seconds=settings.funding_deposit_timeout_seconds)
    w.engine = build_engine(settings, messenger="local", clock=w.now, funding=funding, db=db)
    ctx = WebContext(settings, db=db, extra={"ledger": w.engine.ledger})
    server = WebServer(build_app(settings, extra_routes=routes(ctx))).start_thread()
    try:
        onboard(w, "alice")
        w.render(w.say("alice", "dm", "top up $50"))
        w.render(w.press("alice", "dm", "Confirm") or [])
        shown = texts(w.render(w.say("alice", "dm", "4826")))
        assert "requested" in shown and balance(w, "alice") == 0
        key = next(iter(provider.payments))
        assert provider.send(server.url + PATH, key, "succeeded")[1]["outcome"] == "posted"
        assert balance(w, "alice") == 5000
        assert w.engine.ledger.check().ok
    finally:
        server.stop()
        provider.stop()
        funding.close()
        db.dispose()
