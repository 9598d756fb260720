"""`finbot ledger ...`: check the book's invariants, show balances, accounts and statements."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from adapters.cli.help import PlainCommand, PlainGroup

app = typer.Typer(
    cls=PlainGroup,
    help="Inspect and check the double-entry ledger.\n\nEvery command migrates the database first.\n\n"
         "\b\nExamples:\n"
         "  finbot ledger check\n"
         "  finbot ledger balances --json\n"
         "  finbot ledger accounts --owner u:1\n"
         "  finbot ledger statement 3 --start 2026-11-01\n\n"
         "Exit status: 0 done, 1 when `ledger check` finds a problem, 2 bad input (a usage error, "
         "a bad value, no such account).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def database_url(value: str | None) -> str | None:
    """A --db value, refused (exit 2) unless it is a database URL SQLAlchemy can open."""
    if value is None:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from ledger.db import normalize_url

    try:
        make_url(normalize_url(value)).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise typer.BadParameter(f"not a database URL: {value!r} (e.g. sqlite:///finbot.db or "
                                 "postgresql+psycopg://user@host/db)") from exc
    return value


DbOption = Annotated[
    str | None,
    typer.Option("--db", metavar="URL", callback=database_url,
                 help="Database URL (default: the DATABASE_URL setting, else sqlite:///finbot.db)."),
]


def _url(db: str | None) -> str:
    from bot.config import load_settings

    return str(load_settings(database_url=db).database_url)


def _open(db: str | None):  # type: ignore[no-untyped-def]
    from ledger import Ledger, migrate

    url = _url(db)
    migrate(url)
    return Ledger(url)


@app.command(cls=PlainCommand)
def check(db: DbOption = None) -> None:
    """Recompute every counter from the entries and verify the book.

    Checks: account counters against the transfers, money conserved per asset (posted and
    pending), no limited account beyond its limit, the hash chain unbroken up to the head, every
    hold consistent with the row that posted, voided or expired it, reversals within their
    originals; and each escrow account against the engine's escrow rows (every row's hold in the
    state the row says, the money on hold equal to the rows still held); and the operators' audit
    chain (as `finbot audit check`). Prints each problem naming its table and row; the last line
    says what was checked.

    \b
    Examples:
      finbot ledger check
      finbot ledger check --db postgresql+psycopg://finbot@127.0.0.1/finbot

    Exit status: 0 when everything holds, 1 when a problem was found, 2 bad input (e.g. --db).
    """
    from bot.escrow import reconcile_report
    from bot.groups.reconcile import report as group_report
    from bot.operators.audit import verify

    with _open(db) as ledger:
        report = ledger.check()
        escrow_problems, escrow_summary = reconcile_report(ledger.engine, ledger)
        group_problems, group_summary = group_report(ledger.engine, ledger)
        with ledger.engine.connect() as conn:
            chain = verify(conn)
    problems = report.problems + escrow_problems + group_problems + chain.problems
    for problem in problems:
        typer.echo(problem)
    summary = report.summary + escrow_summary + group_summary + "; " + chain.summary
    typer.echo(("ok: " if not problems else "FAILED: ") + summary)
    raise typer.Exit(0 if not problems else 1)


@app.command(cls=PlainCommand)
def balances(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: label -> asset -> amount.")] = False,
) -> None:
    """Posted balance of every wallet, keyed by its owner's @handle.

    The key is the owner's @handle, or the owner id (e.g. "user:12") when the owner holds no
    handle or shares a label with another owner, so no wallet hides another.

    Amounts are decimal strings with the asset's exponent, e.g. {"@alice": {"USD": "80.00"}}.
    System accounts are left out.

    \b
    Examples:
      finbot ledger balances
      finbot ledger balances --json

    Exit status: 0 done, 2 bad input (e.g. a --db that is not a database URL).
    """
    from ledger import WALLET, decimal_text

    with _open(db) as ledger:
        wallets = [a for a in ledger.accounts() if a.kind == WALLET]
        bals = ledger.balances([a.id for a in wallets]) if wallets else {}
    # one key per owner, so no wallet can hide another: "@handle" for the holder of that handle, the
    # owner id ("user:12") for everyone else (a former holder, someone without a handle, or any
    # label two owners share)
    owners_of: dict[str, set[str]] = {}
    for a in wallets:
        if a.label:
            owners_of.setdefault(a.label, set()).add(a.owner)
    out: dict[str, dict[str, str]] = {}
    for a in wallets:
        unique = bool(a.label) and a.label.startswith("@") and len(owners_of[a.label]) == 1  # type: ignore[union-attr]
        key = a.label if unique and a.label else a.owner
        out.setdefault(key, {})[a.asset] = decimal_text(bals[a.id].posted, a.asset)
    ordered = {k: dict(sorted(v.items())) for k, v in sorted(out.items())}
    if as_json:
        typer.echo(json.dumps(ordered, ensure_ascii=False))
        return
    if not ordered:
        typer.echo("no wallets")
    for key, assets in ordered.items():
        typer.echo(f"{key:24s} " + "  ".join(f"{amount} {asset}" for asset, amount in assets.items()))


@app.command(cls=PlainCommand)
def accounts(
    db: DbOption = None,
    owner: Annotated[str | None, typer.Option(metavar="OWNER", help="Only the accounts of this owner (e.g. u:1).")] = None,
) -> None:
    """Every account with its owner, kind, asset and balances.

    Columns: id, owner (or label), kind, asset, posted balance, available balance (posted less
    pending debits) and pending, in minor units (cents). The id is what `finbot ledger statement` takes.

    \b
    Examples:
      finbot ledger accounts
      finbot ledger accounts --owner u:1

    Exit status: 0 done, 2 bad input (e.g. a --db that is not a database URL).
    """
    with _open(db) as ledger:
        accts = ledger.accounts(owner)
        bals = ledger.balances([a.id for a in accts]) if accts else {}
    typer.echo(f"{'id':>5} {'owner':20s} {'kind':16s} {'asset':10s} {'posted':>14} {'available':>14} {'pending':>12}")
    for a in accts:
        b = bals[a.id]
        typer.echo(
            f"{a.id:>5} {(a.label or a.owner)[:20]:20s} {a.kind[:16]:16s} {a.asset[:10]:10s} "
            f"{b.posted:>14} {b.available:>14} {b.pending:>12}"
        )


def parse_when(text: str | None) -> datetime | None:
    """An ISO 8601 time from a command-line option (UTC when it names no zone); None stays None."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {text}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command(cls=PlainCommand)
def statement(
    account_id: Annotated[int, typer.Argument(metavar="ACCOUNT_ID", help="The account's id (see `finbot ledger accounts`).")],
    db: DbOption = None,
    start: Annotated[str | None, typer.Option(metavar="TIME", help="From this ISO 8601 time (inclusive).")] = None,
    end: Annotated[str | None, typer.Option(metavar="TIME", help="Until this ISO 8601 time (exclusive).")] = None,
) -> None:
    """Posted movements of one account with the running balance.

    Oldest first. Each line: time, amount (negative when money left), balance after it, the other account's
    id, the transfer id and its memo. Times without a zone are UTC.

    \b
    Examples:
      finbot ledger statement 3
      finbot ledger statement 3 --start 2026-11-01 --end 2026-12-01

    Exit status: 0 done, 2 bad input (no such account, a bad time or --db).
    """
    from ledger import AccountNotFound, decimal_text

    since, until = parse_when(start), parse_when(end)
    with _open(db) as ledger:
        acct = ledger.get_account(account_id)
        if acct is None:
            typer.echo(f"no account with id {account_id}", err=True)
            raise typer.Exit(2)
        try:
            lines = ledger.statement(account_id, since, until)
        except AccountNotFound as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    for line in lines:
        typer.echo(
            f"{line.at.isoformat(timespec='seconds')}  {decimal_text(line.amount, acct.asset):>14}  "
            f"{decimal_text(line.balance, acct.asset):>14}  #{line.counterparty_account_id:<5} "
            f"{line.transfer_id}  {line.memo or ''}"
        )


@app.command("migrate", cls=PlainCommand)
def migrate_cmd(db: DbOption = None) -> None:
    """Create or upgrade the ledger's tables only.

    `finbot migrate` does every room's.

    \b
    Examples:
      finbot ledger migrate --db sqlite:///try.db

    Exit status: 0 done, 2 bad input (e.g. a --db that is not a database URL).
    """
    from ledger import migrate

    url = _url(db)
    migrate(url)
    typer.echo("ledger tables are up to date")
