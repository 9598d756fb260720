"""Trading moved to the rooms bot/handlers/trading.py, orders.py and portfolio.py; old imports keep working."""

from __future__ import annotations

from bot.handlers.orders import apply_order, cancel_order, execute_order, order_id, poll
from bot.handlers.portfolio import held_at, holdings, portfolio_data, show_portfolio
from bot.handlers.trading import propose_order, share_asset, show_quote

__all__ = ["apply_order", "cancel_order", "execute_order", "held_at", "holdings", "order_id", "poll", "portfolio_data",
           "propose_order", "share_asset", "show_portfolio", "show_quote"]
