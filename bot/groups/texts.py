"""What group-money cards and answers say, in the reader's language: red packets, pots, balances, refusals."""

from __future__ import annotations

from datetime import datetime

from bot.actions import money_text
from bot.i18n import fmt_datetime, t, tn


def refusal(lang: str, code: str) -> str:
    """A refused claim or payment in words: what happened and that nothing moved."""
    words = {
        "not_member": t(lang, "Only members of this group can do that. Nothing was paid."),
        "not_started": t(lang, "Start a private chat with me first (send /start there), then claim again."),
        "own_packet": t(lang, "You can't claim your own red packet."),
        "already_claimed": t(lang, "You already claimed a part of this red packet."),
        "all_claimed": t(lang, "Every part of this red packet has been claimed."),
        "expired": t(lang, "This red packet has expired. Nothing was paid."),
        "no_packet": t(lang, "This red packet is no longer valid."),
        "pending": t(lang, "Your part is on its way."),
        "no_pot": t(lang, "This collection is no longer valid."),
        "pot_closed": t(lang, "This collection is closed. Nothing was paid."),
        "pot_cancelled": t(lang, "This collection was cancelled. Nothing was paid."),
        "pot_gone": t(lang, "This collection ended while you were paying, so your payment was given back."),
        "own_pot": t(lang, "You organise this collection: you don't pay into it."),
        "not_invited": t(lang, "This collection does not ask you to pay."),
        "already_paid": t(lang, "You have already paid into this collection."),
        "not_organiser": t(lang, "Only the organiser can do that."),
    }
    return words.get(code, t(lang, "That did not work ({code}). Nothing was paid.", code=code))


def packet_card(lang: str, *, sender: str, amount: int, currency: str, count: int, mode: str, note: str | None,
                claimed: list[tuple[str, int]], expires_at: datetime, status: str) -> str:
    """The red packet's card in the group: who sent how much for how many, who claimed what, what is left."""
    lines = [tn(lang, "🧧 {who} sent a red packet: {amount} for {n} person.",
                "🧧 {who} sent a red packet: {amount} for {n} people.", count,
                who=sender, amount=money_text(amount, currency, lang))]
    lines.append(t(lang, "Lucky parts: everyone gets a different amount.") if mode == "lucky"
                 else t(lang, "Equal parts."))
    if note:
        lines.append(t(lang, "Note: {note}", note=note))
    for who, part in claimed:
        lines.append(f"  • {who}: {money_text(part, currency, lang)}")
    left = count - len(claimed)
    if status == "open" and left > 0:
        lines.append(tn(lang, "{n} part left. Claim it before {time}.", "{n} parts left. Claim one before {time}.", left,
                        time=fmt_datetime(expires_at, lang)))
    elif status == "expired":
        lines.append(t(lang, "Expired: what was not claimed went back to {who}.", who=sender))
    else:
        lines.append(t(lang, "Every part has been claimed."))
    return "\n".join(lines)


def packet_proposal(lang: str, *, amount: int, currency: str, count: int, mode: str, hours: int) -> str:
    """What the sender confirms: the amount held now, the parts, and when the rest comes back."""
    lines = [tn(lang, "Red packet of {amount} for {n} person", "Red packet of {amount} for {n} people", count,
                amount=money_text(amount, currency, lang))]
    lines.append(t(lang, "Lucky parts: everyone gets a different amount.") if mode == "lucky" else t(lang, "Equal parts."))
    lines.append(tn(lang, "The amount is held from your wallet now; what nobody claims within {n} hour comes back to you.",
                    "The amount is held from your wallet now; what nobody claims within {n} hours comes back to you.", hours))
    return "\n".join(lines)


def pot_card(lang: str, *, organiser: str, amount: int, currency: str, note: str | None, paid: list[str],
             unpaid: list[str], total: int, deadline: datetime, status: str) -> str:
    """The pot's card in the group with its progress line."""
    what = note or t(lang, "a collection")
    lines = [t(lang, "💰 {who} collects {amount} each for {what}.", who=organiser, amount=money_text(amount, currency, lang),
               what=what)]
    if status != "cancelled":
        lines.append(t(lang, "Collected so far: {total} from {n} of {m}.", total=money_text(total, currency, lang),
                       n=len(paid), m=len(paid) + len(unpaid)))
    if paid:
        lines.append(t(lang, "Paid: {who}", who=", ".join(paid)))
    if unpaid and status == "open":
        lines.append(t(lang, "Not yet: {who}", who=", ".join(unpaid)))
    if status == "open":
        lines.append(t(lang, "It closes by itself on {time}.", time=fmt_datetime(deadline, lang)))
    elif status == "closed":
        lines.append(t(lang, "Closed: {total} went to {who}.", total=money_text(total, currency, lang), who=organiser))
    else:
        lines.append(t(lang, "Cancelled: every payment was given back."))
    return "\n".join(lines)


def balances(lang: str, nets: dict[str, dict[str, int]], plan: list[tuple[str, str, int, str]]) -> str:
    """'Who owes what?': each member's balance per currency, then the fewest payments that settle up."""
    if not nets:
        return t(lang, "Nobody in this group owes anything.")
    lines = [t(lang, "Balances in this group:")]
    for cur, people in nets.items():
        for who, v in sorted(people.items(), key=lambda kv: (-kv[1], kv[0])):
            if v > 0:
                lines.append("  • " + t(lang, "{who} is owed {amount}", who=who, amount=money_text(v, cur, lang)))
            else:
                lines.append("  • " + t(lang, "{who} owes {amount}", who=who, amount=money_text(-v, cur, lang)))
    lines.append(t(lang, "To settle up:"))
    for payer, payee, amount, cur in plan:
        lines.append("  • " + t(lang, "{debtor} pays {creditor}", debtor=payer, creditor=payee) + f" {money_text(amount, cur, lang)}")
    lines.append(t(lang, "Say \"settle up\" and each of you gets a card to pay."))
    return "\n".join(lines)


def rounding_note(lang: str) -> str:
    """Stated on every uneven split's card: how the cents were shared."""
    return t(lang, "Rounded to the smallest unit by largest remainder: the parts add up exactly to the total.")
