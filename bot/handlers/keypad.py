"""The PIN keypad: inline keys whose data carries the question's nonce, never a digit in clear."""

from __future__ import annotations

from bot.events import Button, Reply, ReplyKind

KEYPAD = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ("⌫", "0", "OK"))


def pin_prompt(challenge_id: int, dm: str, text: str, nonce: str) -> Reply:
    """The PIN question with its keypad (keys carry the nonce of this question)."""
    buttons = tuple(tuple(Button(key, data=f"kp{nonce}{i}{j}") for j, key in enumerate(row))
                    for i, row in enumerate(KEYPAD))
    return Reply(ReplyKind.message, dm, text, buttons, ref=f"pin:{challenge_id}")


def key_at(pos: str) -> str | None:
    """The key at a press's position ("32" is OK), None for no key."""
    if len(pos) != 2 or not pos.isdigit() or int(pos[0]) > 3 or int(pos[1]) > 2:
        return None
    return KEYPAD[int(pos[0])][int(pos[1])]
