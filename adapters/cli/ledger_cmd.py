"""`finbot ledger ...`: check the book's invariants, show balances, accounts and statements."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

app = typer.Typer(
    help="Inspect and check the double-entry ledger (every command migrates the database first).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: the DATABASE_URL setting, else sqlite:///finbot.db)."),
]


def _url(db: str | None) -> str:
    from bot.config import load_settings

    return str(load_settings(database_url=db).database_url)


def _open(db: str | None):  # type: ignore[no-untyped-def]
    from ledger import Ledger, migrate

    url = _url(db)
    migrate(url)
    return Ledger(url)


@app.command()
def check(db: DbOption = None) -> None:
    """Recompute every counter from the entries and verify the book.

    Checks: account counters against the transfers, money conserved per asset (posted and
    pending), no limited account beyond its limit, the hash chain unbroken up to the head, every
    hold consistent with the row that posted, voided or expired it, reversals within their
    originals; and each escrow account against the engine's escrow rows (every row's hold in the
    state the row says, the money on hold equal to the rows still held). Prints each problem naming its table and row; the last line says what was
    checked. Exit status 0 when everything holds, 1 otherwise.
    """
    from bot.escrow import reconcile_report

    with _open(db) as ledger:
        report = ledger.check()
        escrow_problems, escrow_summary = reconcile_report(ledger.engine, ledger)
    problems = report.problems + escrow_problems
    for problem in problems:
        typer.echo(problem)
    summary = report.summary + escrow_summary
    typer.echo(("ok: " if not problems else "FAILED: ") + summary)
    raise typer.Exit(0 if not problems else 1)


@app.command()
def balances(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: {label: {asset: amount}}.")] = False,
) -> None:
    """Posted balance of every wallet, keyed by its owner's @handle (its owner id, e.g. "user:12", when
    the owner holds no handle or shares a label with another owner).

    Amounts are decimal strings with the asset's exponent, e.g. {"@alice": {"USD": "80.00"}}.
    System accounts are left out.
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


@app.command()
def accounts(
    db: DbOption = None,
    owner: Annotated[str | None, typer.Option(help="Only the accounts of this owner.")] = None,
) -> None:
    """Every account with its four counters (posted and pending debits and credits) in minor units."""
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


@app.command()
def statement(
    account_id: Annotated[int, typer.Argument(help="The account's id (see `finbot ledger accounts`).")],
    db: DbOption = None,
    start: Annotated[str | None, typer.Option(help="From this ISO 8601 time (inclusive).")] = None,
    end: Annotated[str | None, typer.Option(help="Until this ISO 8601 time (exclusive).")] = None,
) -> None:
    """Posted movements of one account with the running balance, oldest first."""
    from ledger import AccountNotFound, decimal_text

    with _open(db) as ledger:
        acct = ledger.get_account(account_id)
        if acct is None:
            typer.echo(f"no account with id {account_id}", err=True)
            raise typer.Exit(2)
        try:
            lines = ledger.statement(account_id, parse_when(start), parse_when(end))
        except AccountNotFound as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    for line in lines:
        typer.echo(
            f"{line.at.isoformat(timespec='seconds')}  {decimal_text(line.amount, acct.asset):>14}  "
            f"{decimal_text(line.balance, acct.asset):>14}  #{line.counterparty_account_id:<5} "
            f"{line.transfer_id}  {line.memo or ''}"
        )


@app.command("migrate")
def migrate_cmd(db: DbOption = None) -> None:
    """Create or upgrade the ledger's tables only (`finbot migrate` does every room's)."""
    from ledger import migrate

    url = _url(db)
    migrate(url)
    typer.echo("ledger tables are up to date")
