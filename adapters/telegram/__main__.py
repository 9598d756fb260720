"""`python -m adapters.telegram`: finbot on Telegram with the settings from the environment and `.env`."""

from __future__ import annotations

import logging

from adapters.telegram.app import fetch_identity, run
from bot.config import load_settings


def main() -> None:
    """Build the engine for the bot getMe names, then poll or serve the webhook until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings()
    me = fetch_identity(settings)
    from bot.bootstrap import build_engine  # the composition root, imported only when running

    engine = build_engine(settings, messenger="telegram", bot_username=me.username)
    run(settings, engine)


if __name__ == "__main__":
    main()
