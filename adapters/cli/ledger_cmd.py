"""`finbot ledger ...` and `finbot migrate`: the ledger's commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Inspect and check the double-entry ledger.", no_args_is_help=True)
