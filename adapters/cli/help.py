"""How `finbot --help` reads: whole one-line summaries and plain argument names (FILE, TEXT)."""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup

EXIT_CODES = ("Exit status: 0 done, 2 bad input (a usage error, an unreadable file or value); "
              "`finbot ledger check` exits 1 when it finds a problem.")


def summary(help_text: str | None) -> str:
    """The first paragraph of a help text on one line, never cut short."""
    if not help_text:
        return ""
    first = help_text.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in first.splitlines() if line.strip() != "\b")


def arg_name(param: Any) -> str:
    """An argument as the usage line and the Arguments section show it: FILE, TEXT..., [NAME]."""
    name = param.metavar or param.name.upper()
    if param.nargs != 1:
        name += "..."
    return name if param.required else f"[{name}]"


def _option_record(param: Any, ctx: Any) -> tuple[str, str] | None:
    """An option's help row, with a plain value name (URL, TIME) instead of a type like <str>."""
    if param.metavar is None and not param.is_flag:
        param.metavar = param.name.upper()
    record: tuple[str, str] | None = param.get_help_record(ctx)
    return record


def _format_params(command: Any, ctx: Any, formatter: Any) -> None:
    args = [(arg_name(p), p.help or "") for p in command.get_params(ctx)
            if p.param_type_name == "argument" and not p.hidden]
    opts = [r for p in command.get_params(ctx) if p.param_type_name == "option"
            for r in [_option_record(p, ctx)] if r is not None]
    if args:
        with formatter.section("Arguments"):
            formatter.write_dl(args)
    if opts:
        with formatter.section("Options"):
            formatter.write_dl(opts)


class PlainCommand(TyperCommand):
    """A command whose help names arguments plainly and whose summary is its whole first paragraph."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return summary(self.short_help or self.help)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [arg_name(p) for p in self.get_params(ctx) if p.param_type_name == "argument"]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _format_params(self, ctx, formatter)


class PlainGroup(TyperGroup):
    """A group that lists its commands with their whole one-line summaries."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return summary(self.short_help or self.help)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _format_params(self, ctx, formatter)
        self.format_commands(ctx, formatter)
