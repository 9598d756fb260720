"""Counterparties: Telegram @handles, bare names in a payee's place, and "him/her" for a reply."""

from __future__ import annotations

from dataclasses import dataclass, field

from intents.items import Item
from intents.lexicon import common

# Phrase categories that end a name ("anna for pizza", "anna 20", "anna and bob").
_NAME_SKIP = ("filler",)


@dataclass
class Counterparties:
    """The recipients found, whether one of them is doubtful, and the items they took."""

    recipients: list[str] = field(default_factory=list)
    doubtful: bool = False
    claimed: set[int] = field(default_factory=set)

    def add(self, who: str) -> None:
        """Add a recipient once, keeping the order they were written."""
        if who not in self.recipients:
            self.recipients.append(who)


def is_bot(it: Item) -> bool:
    """True for a mention of a bot (Telegram bot usernames end in "bot")."""
    return it.kind == "handle" and it.norm.endswith(common().bot_suffix)


def is_name(it: Item) -> bool:
    """A plain word that can be a person's name: letters (and inner - or '), two or more.
    A word in capitals ("ANNA") is one too, though it also looks like a ticker."""
    if len(it.text) < 2:
        return False
    if it.kind != "word" and not (it.kind == "phrase" and it.cats.keys() == {"tickerlike"}):
        return False
    if it.text.endswith("'"):
        # An elided word ("l'", "d'", "qu'"): an article or a pronoun, never a name.
        return False
    core = it.text.replace("-", "").replace("'", "")
    return core.isalpha()


def _ends_name(items: list[Item], j: int) -> bool:
    """True when nothing that could continue a name follows index j-1."""
    if j >= len(items):
        return True
    return items[j].kind != "word"


def read_counterparties(
    items: list[Item],
    used: set[int],
    anchors: list[int],
) -> Counterparties:
    """Handles anywhere; "him/her" and bare names only where a payee stands: right after the verb,
    after a to/from/with word, or in a list of payees ("@bob and her"). A pronoun elsewhere (in a
    note: "for her birthday") is never a payee."""
    out = Counterparties()
    n = len(items)
    for i, it in enumerate(items):
        if i in used:
            continue
        if it.kind == "handle":
            out.claimed.add(i)
            if is_bot(it):
                continue
            if not it.valid:
                out.doubtful = True
                continue
            out.add(it.norm)
    has_handle = bool(out.recipients)
    positions = list(anchors)
    for a in anchors:
        # French clitics stand before the verb: "peux-tu lui envoyer 20 €".
        if 0 < a and a - 2 >= 0 and a - 2 not in used and "reply" in items[a - 2].cats and "poss" not in items[a - 2].cats:
            positions.append(a - 2)
    for i, it in enumerate(items):
        if i in used or it.kind != "phrase":
            continue
        if "to" in it.cats or "from" in it.cats or "with" in it.cats:
            positions.append(i + 1)
    seen: set[int] = set()
    after_verb = set(anchors)
    for p in positions:
        j = p
        if p not in after_verb:
            # "to my mom": fillers may stand between "to" and a name, not between the verb and
            # it ("pay the electricity bill 80" names no one).
            while j < n and items[j].kind == "phrase" and "filler" in items[j].cats and not _strong(items[j]):
                j += 1
        while j < n and j not in seen and j not in used:
            it = items[j]
            if "reply" in it.cats and it.kind == "phrase":
                if _possessive(items, j):
                    # "for her birthday", "til hennes bursdag", "pour son anniversaire": whose
                    # thing it is, not who is paid.
                    break
                out.claimed.add(j)
                out.add("reply")
                nxt = j + 1
            elif it.kind == "handle" or "self" in it.cats:
                nxt = j + 1
            elif is_name(it):
                if "note_word" in it.cats:
                    break
                prev = items[j - 1] if j > 0 else None
                if prev is not None and "for" in prev.cats and has_handle:
                    # "til" is both "to" and "for": with a payee named, what follows is a note.
                    break
                name, after = _hyphenated(items, j)
                if not _ends_name(items, after):
                    out.doubtful = True
                    seen.add(j)
                    break
                out.add(name)
                out.claimed.update(range(j, after))
                nxt = after
            else:
                break
            seen.add(j)
            # "anna and bob", "@bob, @carol og kari"
            if nxt + 1 < n and items[nxt].kind in ("phrase", "punct") and ("and" in items[nxt].cats or items[nxt].text == ","):
                j = nxt + 1
                continue
            break
    return out


def _possessive(items: list[Item], j: int) -> bool:
    """ "her" in "pay her rent", "leur" in "leur cadeau": a possessive before a noun, no payee."""
    if "poss" not in items[j].cats:
        return False
    k = j + 1
    if k >= len(items):
        return False
    nxt = items[k]
    if nxt.kind == "word" or "note_word" in nxt.cats:
        return True
    return nxt.kind == "phrase" and "sym" in nxt.cats


def _hyphenated(items: list[Item], j: int) -> tuple[str, int]:
    """A name with its hyphenated parts ("anna-maria", written without spaces), and the index after."""
    name = items[j].text.lower()
    k = j + 1
    while (
        k + 1 < len(items)
        and items[k].kind == "punct"
        and items[k].text == "-"
        and items[k].start == items[k - 1].end
        and items[k + 1].start == items[k].end
        and items[k + 1].kind == "word"
        and items[k + 1].text.isalpha()
    ):
        name += "-" + items[k + 1].text.lower()
        k += 2
    return name, k


def _strong(it: Item) -> bool:
    """A filler phrase that also marks something the reader must see (to, for, a date...)."""
    return any(
        c in it.cats
        for c in ("to", "from", "with", "for", "reply", "self", "cur", "wd", "rel", "every", "freq", "sym", "intent", "note_word")
    )
