"""Orders through the broker port: quote on the card, cash held by a pending transfer, fills posted."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.events import Reply
from bot.i18n import t

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.engine import Ctx, Engine
    from bot.execution import Outcome
    from bot.models import Action, User


def _unavailable(c: Ctx) -> None:
    c.say(t(c.lang, "Trading is not available on this finbot yet."))


def propose_order(engine: Engine, c: Ctx, intent: Any) -> None:
    """A buy or sell card with the quote, the estimate and the held amount."""
    _unavailable(c)


def show_quote(engine: Engine, c: Ctx, intent: Any) -> None:
    """The current bid and ask of an instrument."""
    _unavailable(c)


def show_portfolio(engine: Engine, c: Ctx) -> None:
    """Holdings, value, P&L and a chart."""
    _unavailable(c)


def execute_order(engine: Engine, action_id: str, payload: dict[str, Any]) -> Outcome:
    """Reserve cash and submit the order."""
    from bot.execution import Outcome

    return Outcome(False, "trading_unavailable")


def after_order(engine: Engine, s: Session, a: Action, user: User, payload: dict[str, Any], outcome: Outcome,
                now: datetime) -> list[Reply]:
    """Edit the card after submission."""
    return []


def poll(engine: Engine) -> list[Reply]:
    """Post fills and release what is no longer held."""
    return []
