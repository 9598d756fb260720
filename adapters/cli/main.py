"""The `finbot` command line: the composition root that builds the adapters a run needs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.cli import intents_cmd, ledger_cmd

app = typer.Typer(
    name="finbot",
    help="finbot: a chat-native finance bot on a double-entry ledger.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(intents_cmd.app, name="intents")

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: DATABASE_URL, else sqlite:///finbot.db).")]


def _settings(db: str | None) -> Any:
    from bot.config import load_settings

    return load_settings(database_url=db)


def _local_world(settings: Any, *, simulated_clock: bool) -> Any:
    """The engine wired for the local messenger, with the sandbox funding and the paper broker."""
    from adapters.funding.sandbox import SandboxFunding
    from adapters.local.world import LocalWorld
    from bot.bootstrap import build_engine
    from ledger import create_engine

    db = create_engine(settings.database_url)
    world = LocalWorld(None, db, Path(settings.output_dir), live=not simulated_clock)
    clock = world.now  # the terminal chat's clock is live, and /advance moves it on as simulate's does
    broker = _broker(settings, db, clock)
    world.engine = build_engine(settings, messenger="local", clock=clock, funding=SandboxFunding(), broker=broker, db=db)
    return world


def _broker(settings: Any, db: Any, clock: Any) -> Any:
    """The configured broker adapter (the paper broker by default)."""
    from adapters.cli.wiring import build_broker

    return build_broker(settings, db, clock)


@app.command()
def migrate(db: DbOption = None) -> None:
    """Create or upgrade every table (the ledger's and the engine's) to the newest revision."""
    from bot.db import migrate_all
    from ledger import create_engine

    settings = _settings(db)
    engine = create_engine(settings.database_url)
    migrate_all(engine)
    typer.echo(f"migrated {engine.url.render_as_string(hide_password=True)}")


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="Scenario file: one JSON event a line (see SCENARIOS.md).", exists=False)],
    db: DbOption = None,
    now: Annotated[str | None, typer.Option("--now", help="Start the world's clock here (ISO 8601); default: where the last run left it.")] = None,
) -> None:
    """Play a scenario through the real engine, ledger and step-up; print one JSON line per bot message."""
    from adapters.local.simulate import ScenarioError, play, start_clock

    if not file.exists():
        typer.echo(f"no such file: {file}", err=True)
        raise typer.Exit(2)
    settings = _settings(db)
    world = _local_world(settings, simulated_clock=True)
    start_clock(world, ledger_cmd.parse_when(now))
    try:
        with file.open(encoding="utf-8") as fh:
            play(world, fh, sys.stdout)
    except ScenarioError as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def chat(
    user: Annotated[str, typer.Option("--as", help="Who you are at the start.")] = "alice",
    db: DbOption = None,
) -> None:
    """Chat with the bot in the terminal, as several people, in private and in groups."""
    from adapters.local.chat import run_chat

    settings = _settings(db)
    world = _local_world(settings, simulated_clock=False)
    run_chat(world, user.lstrip("@"))


@app.command()
def run(db: DbOption = None) -> None:
    """Run the bot: on Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat on the embedded defaults."""
    settings = _settings(db)
    if not settings.telegram_bot_token:
        typer.echo("No TELEGRAM_BOT_TOKEN set: starting the terminal chat on the embedded defaults "
                   f"({settings.database_url}).")
        chat(user="alice", db=db)
        return
    from adapters.funding.sandbox import SandboxFunding
    from adapters.telegram.app import run as run_telegram
    from bot.bootstrap import build_engine
    from ledger import create_engine

    db_engine = create_engine(settings.database_url)
    engine = build_engine(settings, messenger="telegram", funding=SandboxFunding(),
                          broker=_broker(settings, db_engine, None), db=db_engine)
    run_telegram(settings, engine)


def main() -> None:
    """Entry point of the `finbot` console script."""
    app()


if __name__ == "__main__":
    main()
