"""`finbot intents ...`: parse one message or score a labelled file."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Parse chat messages into intents (the contract in INTENTS.md), or score a labelled file.",
    no_args_is_help=True,
)


def _now(value: str | None) -> datetime.datetime:
    if value is None:
        return datetime.datetime.now(datetime.UTC)
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO-8601 date-time: {value!r}") from exc


@app.command("parse")
def parse_cmd(
    text: str = typer.Argument(..., help="The chat message, e.g. 'send $20 to @anna'."),
    lang: str | None = typer.Option(
        None, "--lang", help="Read the text in this language: en, nb or fr (default: detect)."
    ),
    now: str | None = typer.Option(
        None,
        "--now",
        help="ISO-8601 date-time that relative dates resolve against (default: the current time).",
    ),
) -> None:
    """Print the parsed object of one message as one JSON line."""
    from intents import parse

    if lang is not None and lang not in ("en", "nb", "fr"):
        raise typer.BadParameter("--lang must be en, nb or fr")
    intent = parse(text, lang=lang, now=_now(now))
    typer.echo(json.dumps(intent.to_json_dict(), ensure_ascii=False))


@app.command("eval")
def eval_cmd(
    files: list[Path] = typer.Argument(
        ...,
        help="Labelled JSONL file(s): one {text, lang, expect} object a line; several are scored together.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
    now: str | None = typer.Option(
        None, "--now", help="ISO-8601 date-time that relative dates resolve against (default: now)."
    ),
) -> None:
    """Score labelled files. Mismatching lines first, then the last line:
    intent_accuracy=... slot_exact=... dangerous=... n=..."""
    from intents.scoring import describe, evaluate

    def lines() -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for path in files:
            for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                out.append((f"{path.name}:{number}", raw))
        return out

    report = evaluate(lines(), _now(now))
    for error in report.errors:
        typer.echo(error)
    for result in report.lines:
        if not result.slots_ok or result.dangerous:
            typer.echo(describe(result))
    typer.echo(report.summary())
