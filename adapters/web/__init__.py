"""The bot's one web server: a Starlette app under uvicorn (Telegram webhook, passkey pages, other modules' routes)."""
