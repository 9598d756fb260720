"""The `finbot` command line: the composition root that builds the adapters a run needs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.cli import audit_cmd, intents_cmd, ledger_cmd
from adapters.cli.help import EXIT_CODES, PlainCommand, PlainGroup


def version_text() -> str:
    """`finbot X.Y.Z`, the version of the installed package (its metadata, from pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"finbot {version('finbot')}"
    except PackageNotFoundError:
        return "finbot (not installed: run `make run` or `pip install -e .`)"


app = typer.Typer(
    name="finbot",
    cls=PlainGroup,
    help="finbot: a chat-native finance bot on a double-entry ledger.\n\n"
         "\b\nExamples:\n"
         "  finbot run\n"
         "  finbot simulate tests/scenarios/request_pay.jsonl\n"
         "  finbot ledger check\n"
         "  finbot intents parse 'send $20 to @anna'\n\n"
         "Every command has --help. The formats finbot reads and the settings are described in docs/."
         "\n\n" + EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(intents_cmd.app, name="intents")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                               help="Print finbot's version and exit.")] = False,
) -> None:
    """finbot: a chat-native finance bot on a double-entry ledger."""


DbOption = ledger_cmd.DbOption


def _settings(db: str | None) -> Any:
    from bot.config import load_settings

    return load_settings(database_url=db)


def _local_world(settings: Any, *, simulated_clock: bool) -> Any:
    """The engine wired for the local messenger, with the sandbox funding and the paper broker."""
    from adapters.funding.factory import make_funding
    from adapters.local.world import LocalWorld
    from bot.bootstrap import build_engine
    from ledger import create_engine

    db = create_engine(settings.database_url)
    world = LocalWorld(None, db, Path(settings.output_dir), live=not simulated_clock)
    clock = world.now  # the terminal chat's clock is live, and /advance moves it on as simulate's does
    broker = _broker(settings, db, clock)
    from adapters.cli.wiring import build_rates

    world.engine = build_engine(settings, messenger="local", clock=clock, funding=make_funding(settings), broker=broker, db=db,
                                rates=build_rates(settings, clock))
    return world


def _broker(settings: Any, db: Any, clock: Any) -> Any:
    """The configured broker adapter (the paper broker by default)."""
    from adapters.cli.wiring import build_broker

    return build_broker(settings, db, clock)


@app.command(cls=PlainCommand)
def migrate(db: DbOption = None) -> None:
    """Create or upgrade every table to the newest revision.

    Both rooms' tables: the ledger's and the engine's. Safe to run again: what is up to date is left alone. The other commands migrate on their own,
    so this is only needed to prepare a database ahead of time (e.g. before a deploy).

    \b
    Examples:
      finbot migrate
      finbot migrate --db postgresql+psycopg://finbot@127.0.0.1/finbot

    Exit status: 0 done, 2 bad input (e.g. a --db that is not a database URL).
    """
    from bot.db import migrate_all
    from ledger import create_engine

    settings = _settings(db)
    engine = create_engine(settings.database_url)
    migrate_all(engine)
    typer.echo(f"migrated {engine.url.render_as_string(hide_password=True)}")


@app.command(cls=PlainCommand)
def simulate(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Scenario file: one JSON event a line (docs/scenarios.md).",
                                         exists=False)],
    db: DbOption = None,
    now: Annotated[str | None, typer.Option("--now", metavar="TIME",
                                            help="Start the world's clock here (ISO 8601); default: where the last run left it.")] = None,
) -> None:
    """Play a scenario file through the real engine, as JSON lines.

    The engine, ledger and step-up checks are the ones production runs; only the messenger is local.

    Each line of FILE is one event (a message, a button press, group members, the clock moving
    on); each message the bot sends or edits is printed as one JSON line. Runs on one database
    continue the same world. The format is in docs/scenarios.md.

    \b
    Examples:
      finbot simulate tests/scenarios/request_pay.jsonl
      finbot simulate --db sqlite:///try.db --now 2026-11-18T12:00:00Z talk.jsonl
      finbot ledger balances --db sqlite:///try.db --json

    Exit status: 0 when the file was played to its end (whatever the bot answered), 2 bad input:
    no such file, a bad --now or --db, or a line it cannot read (named by its number).
    """
    from adapters.local.simulate import ScenarioError, play, start_clock

    if not file.exists():
        typer.echo(f"no such file: {file}", err=True)
        raise typer.Exit(2)
    when = ledger_cmd.parse_when(now)
    settings = _settings(db)
    world = _local_world(settings, simulated_clock=True)
    start_clock(world, when)
    try:
        with file.open(encoding="utf-8") as fh:
            play(world, fh, sys.stdout)
    except ScenarioError as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command(cls=PlainCommand)
def chat(
    user: Annotated[str, typer.Option("--as", metavar="NAME", help="Who you are at the start.")] = "alice",
    db: DbOption = None,
) -> None:
    """Chat with the bot in the terminal, as several people.

    In private chats and in groups, on the configured database.

    Everything you type goes to the bot; a few lines are the terminal's own: /as NAME (become
    someone else), /group NAME and /dm (change chat), /press LABEL (press a button), /reply NAME
    TEXT, /advance PT25H (move the clock on), /quit.

    \b
    Examples:
      finbot chat
      finbot chat --as bob --db sqlite:///try.db

    Exit status: 0 done, 2 bad input (e.g. a --db that is not a database URL).
    """
    from adapters.local.chat import run_chat

    settings = _settings(db)
    world = _local_world(settings, simulated_clock=False)
    run_chat(world, user.lstrip("@"))


WorkersOption = Annotated[int, typer.Option(
    "--workers", min=0, help="Worker processes to start on this machine (PostgreSQL only; 0: the WORKERS setting, 1 by default).")]


@app.command(cls=PlainCommand)
def run(db: DbOption = None, workers: WorkersOption = 0) -> None:
    """Run the bot: on Telegram with a token, else a terminal chat.

    With TELEGRAM_BOT_TOKEN set it long-polls Telegram, or serves a webhook when WEBHOOK_URL is set
    (docs/operating.md). Without one it opens the terminal chat (see `finbot chat --help`) on the
    configured database, the embedded SQLite file finbot.db by default. With --workers N (on
    PostgreSQL) it starts N bot processes that share the work, and starts again any that dies.

    \b
    Examples:
      finbot run
      TELEGRAM_BOT_TOKEN=7123456789:AAH... finbot run
      DATABASE_URL=postgresql://... REDIS_URL=redis://127.0.0.1:6379/0 finbot run --workers 3

    Exit status: 0 done, 2 bad input (e.g. a --db that is not a database URL, or --workers on SQLite).
    """
    settings = _settings(db)
    n = workers or settings.workers
    if not settings.telegram_bot_token:
        typer.echo("No TELEGRAM_BOT_TOKEN set: starting the terminal chat on the embedded defaults "
                   f"({settings.database_url}).")
        chat(user="alice", db=db)
        return
    if settings.log_json:
        from bot.claims import worker_name
        from bot.metrics import log_as_json

        log_as_json(worker_name())
    if n > 1 and os.environ.get("FINBOT_WORKER_SLOT") is None:
        if settings.database_url.startswith("sqlite"):
            typer.echo("--workers needs PostgreSQL (DATABASE_URL): SQLite is for one process.", err=True)
            raise typer.Exit(2)
        import logging

        from adapters.cli.workers import supervise
        from bot.db import migrate_all
        from ledger import create_engine as make_db

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        first = make_db(settings.database_url)
        migrate_all(first)  # once, before the workers start (they would otherwise race to migrate)
        first.dispose()
        env = {"DATABASE_URL": settings.database_url}
        raise typer.Exit(supervise(n, env=env))
    from adapters.cli.wiring import build_rates
    from adapters.funding.factory import make_funding
    from adapters.telegram.app import run as run_telegram
    from bot.bootstrap import build_engine
    from ledger import create_engine

    db_engine = create_engine(settings.database_url)
    engine = build_engine(settings, messenger="telegram", funding=make_funding(settings),
                          broker=_broker(settings, db_engine, None), db=db_engine, rates=build_rates(settings))
    if settings.metrics_port:
        from prometheus_client import start_http_server

        from bot import metrics

        metrics.watch_database(db_engine)
        start_http_server(settings.metrics_port + int(os.environ.get("FINBOT_WORKER_SLOT", "0") or 0),
                          addr=settings.webhook_listen, registry=metrics.REGISTRY)
    run_telegram(settings, engine, tick_seconds=float(settings.schedule_tick_seconds))


def main() -> None:
    """Entry point of the `finbot` console script."""
    app()


if __name__ == "__main__":
    main()
