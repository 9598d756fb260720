"""The `/admin` verbs: a closed set, each parsed into one typed command; the help lines `/admin help` prints."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from bot.i18n import t

# the usage of each verb, in the order `/admin help` lists them
USAGES: tuple[str, ...] = (
    "/admin help",
    "/admin freeze @handle [reason]",
    "/admin unfreeze @handle",
    "/admin reverse TRANSFER_ID [amount] reason",
    "/admin limits @handle per_payment=.. per_day=.. per_month=..",
    "/admin tier @handle N",
    "/admin unlock @handle",
    "/admin pin-reset @handle",
    "/admin user @handle",
    "/admin stats",
    "/admin audit [@handle | YYYY-MM-DD]",
    "/admin check",
    "/admin deadletters",
)


def _what(lang: str) -> dict[str, str]:
    """What each verb does, in the operator's language (literal msgids, so the extractor finds them)."""
    return {
        "help": t(lang, "this list"),
        "freeze": t(lang, "stop an account's money at once; it can still receive"),
        "unfreeze": t(lang, "lift a freeze (a second operator approves)"),
        "reverse": t(lang, "send a transfer back, all or part (a second operator approves)"),
        "limits": t(lang, "set own limits (raising one: a second operator approves)"),
        "tier": t(lang, "set the KYC tier (raising it: a second operator approves)"),
        "unlock": t(lang, "lift a PIN lockout (a second operator approves)"),
        "pin-reset": t(lang, "reset a lost PIN of someone without codes (a second operator approves)"),
        "user": t(lang, "status, limits, tier, step-up methods, last activity, balances"),
        "stats": t(lang, "users, volume, pending cards, failures, locked and frozen accounts, dead letters"),
        "audit": t(lang, "operators' acts, newest first"),
        "check": t(lang, "verify the ledger and the audit chain"),
        "deadletters": t(lang, "replies that could not be delivered"),
    }


VERBS = frozenset(u.split()[1] for u in USAGES)
ALIASES = {"resetpin": "pin-reset", "dead": "deadletters", "limit": "limits"}
#: verbs that always need a second operator; tier and limits need one only when they raise
CHECKED = frozenset({"unfreeze", "reverse", "unlock", "pin-reset"})
#: verbs that change someone: never on oneself
ON_SOMEONE = frozenset({"freeze", "unfreeze", "limits", "tier", "unlock", "pin-reset"})
_HANDLE = re.compile(r"^@?[A-Za-z0-9_]{1,64}$")
_LIMIT_VALUE = re.compile(r"^(per_payment|per_day|per_month)=(.+)$")
NO_LIMIT_WORDS = frozenset({"none", "off", "-", "unlimited"})


def help_text(lang: str) -> str:
    """`/admin help`: one line a verb, the descriptions in the operator's language."""
    what = _what(lang)
    return "\n".join(f"{usage} — {what[usage.split()[1]]}" for usage in USAGES)


@dataclass(frozen=True)
class OpCommand:
    """One parsed `/admin` command."""

    verb: str
    handle: str | None = None
    transfer_id: str | None = None
    amount: Decimal | None = None
    reason: str | None = None
    tier: int | None = None
    limits: dict[str, Decimal | None] = field(default_factory=dict)  # name -> major units, None: no limit
    since: datetime | None = None
    text: str = ""  # the arguments as written


@dataclass(frozen=True)
class Unparsed:
    """Why a command could not be read: a sentence (English msgid) and its values."""

    msgid: str
    values: dict[str, str] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        """The sentence in the operator's language, with the help line of the verb."""
        return t(lang, self.msgid, **self.values)


def _handle(word: str) -> str | None:
    return word.lstrip("@").lower() if _HANDLE.match(word) else None


def _amount(word: str) -> Decimal | None:
    try:
        value = Decimal(word.replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def usage_of(verb: str) -> str:
    """The help line's usage of one verb."""
    return next((u for u in USAGES if u.split()[1] == verb), "/admin help")


def parse(arg: str) -> OpCommand | Unparsed:
    """`freeze @x reason` -> OpCommand(verb='freeze', handle='x', reason='reason'); a closed set of verbs."""
    parts = arg.split()
    if not parts:
        return OpCommand("help", text=arg)
    verb = ALIASES.get(parts[0].lower(), parts[0].lower())
    rest = parts[1:]
    if verb not in VERBS:
        return Unparsed("There is no /admin {verb}. /admin help lists the commands.", {"verb": parts[0][:30]})
    bad = Unparsed("Write it as: {usage}", {"usage": usage_of(verb)})
    if verb in ("help", "stats", "check", "deadletters"):
        return OpCommand(verb, text=arg)
    if verb == "audit":
        if not rest:
            return OpCommand(verb, text=arg)
        if len(rest) == 1 and rest[0].startswith("@") and _handle(rest[0]):
            return OpCommand(verb, handle=_handle(rest[0]), text=arg)
        if len(rest) == 1:
            try:
                day = datetime.fromisoformat(rest[0])
            except ValueError:
                return bad
            return OpCommand(verb, since=day if day.tzinfo else day.replace(tzinfo=UTC), text=arg)
        return bad
    if verb == "reverse":
        if len(rest) < 2:
            return Unparsed("Say why: {usage}", {"usage": usage_of(verb)})
        amount = _amount(rest[1])
        reason_words = rest[2:] if amount is not None else rest[1:]
        if not reason_words:
            return Unparsed("Say why: {usage}", {"usage": usage_of(verb)})
        return OpCommand(verb, transfer_id=rest[0], amount=amount, reason=" ".join(reason_words)[:300], text=arg)
    if not rest or _handle(rest[0]) is None:
        return bad
    handle = _handle(rest[0])
    if verb == "freeze":
        return OpCommand(verb, handle=handle, reason=" ".join(rest[1:])[:300] or None, text=arg)
    if verb in ("unfreeze", "unlock", "pin-reset", "user"):
        return OpCommand(verb, handle=handle, reason=" ".join(rest[1:])[:300] or None, text=arg) if verb != "user" or len(rest) == 1 else bad
    if verb == "tier":
        if len(rest) != 2 or not rest[1].isdigit():
            return bad
        return OpCommand(verb, handle=handle, tier=int(rest[1]), text=arg)
    # limits
    limits: dict[str, Decimal | None] = {}
    for word in rest[1:]:
        m = _LIMIT_VALUE.match(word.lower())
        if m is None:
            return bad
        if m.group(2) in NO_LIMIT_WORDS:
            limits[m.group(1)] = None
            continue
        value = _amount(m.group(2))
        if value is None:
            return bad
        limits[m.group(1)] = value
    if not limits:
        return bad
    return OpCommand(verb, handle=handle, limits=limits, text=arg)
