"""The Telegram transport: python-telegram-bot between the Bot API and finbot's engine (`app.run`)."""
