"""The `finbot` command line: the composition root that builds the adapters a run needs."""

from __future__ import annotations

import typer

from adapters.cli import intents_cmd, ledger_cmd

app = typer.Typer(
    name="finbot",
    help="finbot: a chat-native finance bot on a double-entry ledger.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(intents_cmd.app, name="intents")


def main() -> None:
    """Entry point of the `finbot` console script."""
    app()


if __name__ == "__main__":
    main()
