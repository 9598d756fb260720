"""`finbot audit ...`: verify the operators' audit chain and list its newest rows."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.help import PlainCommand, PlainGroup
from adapters.cli.ledger_cmd import DbOption, _url

app = typer.Typer(
    cls=PlainGroup,
    help="Verify and read the operators' audit chain.\n\nEvery command migrates the database first.\n\n"
         "\b\nExamples:\n"
         "  finbot audit check\n"
         "  finbot audit list --limit 20\n\n"
         "Exit status: 0 done, 1 when `audit check` finds a broken row, 2 bad input (e.g. --db).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _engine(db: str | None):  # type: ignore[no-untyped-def]
    from bot.db import migrate_all
    from ledger import create_engine

    engine = create_engine(_url(db))
    migrate_all(engine)
    return engine


@app.command(cls=PlainCommand)
def check(db: DbOption = None) -> None:
    """Verify every row's hash against its fields and the row before it.

    Walks the chain in order from its first row; names the first row whose sequence number, link or
    hash does not hold (a row edited, deleted or inserted by hand), and checks the head points at
    the last row. The last line says what was checked.

    \b
    Examples:
      finbot audit check
      finbot audit check --db postgresql+psycopg://finbot@127.0.0.1/finbot

    Exit status: 0 when the chain holds, 1 when a row is broken, 2 bad input (e.g. --db).
    """
    from bot.operators.audit import verify

    engine = _engine(db)
    with engine.connect() as conn:
        report = verify(conn)
    engine.dispose()
    for problem in report.problems:
        typer.echo(problem)
    typer.echo(("ok: " if report.ok else "FAILED: ") + report.summary)
    raise typer.Exit(0 if report.ok else 1)


@app.command(name="list", cls=PlainCommand)
def list_rows(
    db: DbOption = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="How many rows, newest first.")] = 20,
) -> None:
    """The newest rows of the chain, one line each.

    Each line: seq, when, who, what, on whom, the approver and the approval, why, the detail.

    \b
    Examples:
      finbot audit list
      finbot audit list --limit 100

    Exit status: 0 done, 2 bad input (e.g. --db).
    """
    from sqlmodel import Session

    from bot.operators.audit import from_us, recent

    engine = _engine(db)
    with Session(engine) as s:
        for r in recent(s, limit=limit):
            typer.echo(f"#{r.seq} {from_us(r.at_us):%Y-%m-%d %H:%M:%S} actor={r.actor_id} {r.verb} target={r.target_id}"
                       f" approver={r.approver_id} approval={r.approval_id} reason={r.reason!r} {r.detail}")
    engine.dispose()
