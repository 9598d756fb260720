"""`finbot intents ...`: parse one message or score a labelled file."""

from __future__ import annotations

import typer

app = typer.Typer(help="Parse chat messages into intents.", no_args_is_help=True)
