"""The bus: registries that map intents, commands, button presses, action kinds and due work to handlers.

Every room in `bot/handlers/` has `register(bus)`; `ROOMS` lists them, so a new feature is a new
module plus one line here. `bot/engine.py` loads the rooms in this order, which is the order `ticks` run in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.context import Ctx
from bot.events import Reply
from bot.execution import Outcome
from bot.models import Action, PressToken, User
from bot.payloads import Payload
from intents.model import Intent

if TYPE_CHECKING:  # typing only: bot/app.py imports this module to hold its Bus
    from bot.app import App

# (app, c, intent): a parsed intent of this kind (intents.model.Intent), within the event's transaction
IntentHandler = Callable[["App", Ctx, Intent], None]
# (app, c, arg): a slash command, arg is the text after it ("/statement 2026-05" -> "2026-05")
CommandHandler = Callable[["App", Ctx, str], None]
# (app, c, token, via_link): a press of a button token (PressToken.choice, or a prefix "show:"), already
# checked to exist, to belong to the presser and to be unexpired; single-use tokens already claimed
PressHandler = Callable[["App", Ctx, PressToken, bool], None]
# (app, c, state, text) -> handled: the answer to a question the bot asked (the state's "await" value)
AnswerHandler = Callable[["App", Ctx, dict[str, Any], str], bool]
# (app, run_id, payload) -> Outcome: execute a confirmed action once, after the event's commit
ExecuteFn = Callable[["App", str, Payload], Outcome]
# (app, s, action, initiator, payload, outcome, now) -> replies: record a successful execution in session s
AfterFn = Callable[["App", Session, Action, User, Payload, Outcome, datetime], list[Reply]]
# (app, now) -> replies: due work, run by Engine.tick in registration order
TickFn = Callable[["App", datetime], list[Reply]]
# (app, c, users): people an event showed as members of c.chat (joined, or listed by the adapter)
MembersFn = Callable[["App", Ctx, list[User]], None]
# (app, c, text, intent) -> handled: a reading of the text before its intent is acted on or asked back about,
# for shapes the intent has no slot for (an uneven split, an expense: bot/handlers/group_debts.py)
ReaderFn = Callable[["App", Ctx, str, Intent], bool]

ROOMS: tuple[str, ...] = (
    "bot.handlers.start",
    "bot.handlers.prefs",
    "bot.handlers.pin",
    "bot.handlers.stepup",
    "bot.handlers.passkey",
    "bot.handlers.operators",
    "bot.handlers.userdata",
    "bot.handlers.funding",
    "bot.handlers.slots",
    "bot.handlers.cards",
    "bot.handlers.execution",
    "bot.handlers.payments",
    "bot.handlers.requests",
    "bot.handlers.escrow",
    "bot.handlers.schedules",
    "bot.handlers.holds",
    "bot.handlers.statements",
    "bot.handlers.trading",
    "bot.handlers.orders",
    "bot.handlers.portfolio",
    "bot.handlers.receipts",
    "bot.handlers.fx",
    "bot.handlers.group_debts",
    "bot.handlers.group_packets",
    "bot.handlers.group_pots",
    "bot.handlers.group_tips",
    "bot.handlers.standing",
    "bot.handlers.standing_words",
)


@dataclass
class Bus:
    """Where each kind of thing that happens finds its handler."""

    intents: dict[str, IntentHandler] = field(default_factory=dict)
    commands: dict[str, CommandHandler] = field(default_factory=dict)
    presses: dict[str, PressHandler] = field(default_factory=dict)
    answers: dict[str, AnswerHandler] = field(default_factory=dict)
    executors: dict[str, ExecuteFn] = field(default_factory=dict)
    after_record: dict[str, AfterFn] = field(default_factory=dict)
    ticks: list[TickFn] = field(default_factory=list)
    members: list[MembersFn] = field(default_factory=list)
    left: list[MembersFn] = field(default_factory=list)  # people an event showed leaving c.chat (left, removed)
    readers: list[ReaderFn] = field(default_factory=list)

    def press_handler(self, choice: str) -> PressHandler | None:
        """The handler of a token's choice: the choice itself, else its prefix up to ":" ("sched:42" -> "sched:")."""
        found = self.presses.get(choice)
        if found is None and ":" in choice:
            found = self.presses.get(choice.split(":", 1)[0] + ":")
        return found

