"""The funding adapter the FUNDING setting names: the sandbox (default) or the bank-transfer provider."""

from __future__ import annotations

from bot.config import Settings
from bot.funding import FundingPort


class UnknownFunding(ValueError):
    """FUNDING names no adapter, or the provider's settings are missing."""


def make_funding(settings: Settings) -> FundingPort:
    """The funding adapter for this run."""
    name = settings.funding.strip().lower()
    if name == "sandbox":
        from adapters.funding.sandbox import SandboxFunding

        return SandboxFunding()
    if name == "bank":
        from adapters.funding.bank import BankTransferFunding

        if not settings.funding_api_url or not settings.funding_webhook_secret:
            raise UnknownFunding("FUNDING=bank needs FUNDING_API_URL and FUNDING_WEBHOOK_SECRET")
        return BankTransferFunding(settings.funding_api_url, settings.funding_api_key,
                                   settle_timeout_seconds=settings.funding_deposit_timeout_seconds)
    raise UnknownFunding(f"FUNDING={settings.funding!r}: use sandbox or bank")
