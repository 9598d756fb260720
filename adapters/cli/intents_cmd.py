"""`finbot intents ...`: parse one message or score a labelled file."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import typer

from adapters.cli.help import EXIT_CODES, PlainCommand, PlainGroup

app = typer.Typer(
    cls=PlainGroup,
    help="Parse chat messages into intents, or score a labelled file.\n\nThe formats are in docs/intents.md.\n\n"
         "\b\nExamples:\n"
         "  finbot intents parse 'send $20 to @anna for pizza'\n"
         "  finbot intents eval tests/intents/corpus/*.jsonl\n\n" + EXIT_CODES,
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _now(value: str | None) -> datetime.datetime:
    if value is None:
        return datetime.datetime.now(datetime.UTC)
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO-8601 date-time: {value!r}") from exc


@app.command("parse", cls=PlainCommand)
def parse_cmd(
    text: str = typer.Argument(..., metavar="TEXT", help="The chat message, e.g. 'send $20 to @anna'."),
    lang: str | None = typer.Option(
        None, "--lang", metavar="LANG", help="Read the text in this language: en, nb or fr (default: detect)."
    ),
    now: str | None = typer.Option(
        None,
        "--now",
        metavar="TIME",
        help="ISO-8601 date-time that relative dates resolve against (default: the current time).",
    ),
) -> None:
    """Print the parsed object of one message as one JSON line.

    Every key of the parsed object is present (null when it does not apply); docs/intents.md
    describes each one.

    \b
    Examples:
      finbot intents parse 'send $20 to @anna for pizza'
      finbot intents parse --lang nb 'send 1.000 kr til @ola'
      finbot intents parse --now 2026-11-18T12:00:00Z 'every monday send @mom 50'

    Exit status: 0 done, 2 bad input (an unknown --lang, a --now that is not ISO 8601).
    """
    from intents import parse

    if lang is not None and lang not in ("en", "nb", "fr"):
        raise typer.BadParameter("--lang must be en, nb or fr")
    intent = parse(text, lang=lang, now=_now(now))
    typer.echo(json.dumps(intent.to_json_dict(), ensure_ascii=False))


@app.command("eval", cls=PlainCommand)
def eval_cmd(
    files: list[Path] = typer.Argument(
        ...,
        metavar="FILE",
        help="Labelled JSONL file(s): one object a line with text, lang and expect; several are scored together.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
    now: str | None = typer.Option(
        None, "--now", metavar="TIME", help="ISO-8601 date-time that relative dates resolve against (default: now)."
    ),
) -> None:
    """Score labelled files: intent accuracy, slots, dangerous readings.

    Prints the lines that did not match first, then, as the last line:

    \b
      intent_accuracy=0.995 slot_exact=0.990 dangerous=0 n=300

    The format of a labelled file and how each score is counted are in docs/intents.md.

    \b
    Examples:
      finbot intents eval tests/intents/corpus/*.jsonl
      finbot intents eval --now 2026-11-18T12:00:00Z mine.jsonl

    Exit status: 0 done (whatever the scores), 2 bad input (no such file, a bad --now).
    """
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
