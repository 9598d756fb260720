"""`.env.example` lists every setting, each under a comment, and the defaults load."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def test_every_setting_is_documented() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    keys: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line and not line.startswith("#") and "=" in line:
            keys[line.split("=", 1)[0]] = i
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in keys]
    assert not missing, f"not in .env.example: {missing}"
    for key, i in keys.items():
        above = [ln for ln in lines[:i] if ln.strip()]
        assert above and (above[-1].startswith("#") or "=" in above[-1]), f"{key} has no comment above it"


def test_defaults_are_the_embedded_ones() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.database_url == "sqlite:///finbot.db"
    assert s.telegram_bot_token == ""
    assert load_settings(database_url="sqlite:///x.db").database_url == "sqlite:///x.db"
    assert s.pin_argon2_memory_kib >= 19456 and s.pin_argon2_time_cost >= 2
    assert s.broker == "paper"
