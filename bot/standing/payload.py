"""The standing order's payload: one confirmation authorises a series of sends or trades (a mandate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.actions import describe_rrule
from bot.i18n import LOCALES, fmt_date, t
from bot.payloads.base import Payload, from_dict, labelled_body, register_payload
from bot.standing.ends import End
from bot.standing.store import timing


def when_text(at: datetime, tz: str, lang: str) -> str:
    """An instant as the person's local date and time, with the zone's name ("Mon, 23 Nov 2026, 09:00 Europe/Oslo")."""
    local = at.astimezone(ZoneInfo(tz))
    return format_datetime(local, format="EEE d MMM y, HH:mm", tzinfo=ZoneInfo(tz),
                           locale=LOCALES.get(lang, "en_US")) + f" {tz}"


@register_payload
@dataclass(frozen=True)
class Standing(Payload):
    """A series: what each run does (`inner`, a send, buy or sell), how often, from when, until when, where."""

    kind: ClassVar[str] = "standing"
    inner: Payload
    rule: str | None  # RRULE body; None: a single future date (`when`)
    when: date | None
    tz: str
    hour: int
    count: int | None = None
    until: date | None = None
    created: datetime | None = None  # when the card was made: the next runs shown are counted from it
    replaces: int | None = None  # the schedule id this confirmed change stops
    from_label: str | None = None

    @property
    def currency(self) -> str:  # type: ignore[override]
        return self.inner.currency

    @property
    def from_user(self) -> int:  # type: ignore[override]
        return self.inner.from_user

    @property
    def end(self) -> End:
        return End(count=self.count, until=self.until)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"inner": self.inner.to_dict(), "rule": self.rule, "tz": self.tz, "hour": self.hour}
        for key, value in (("when", self.when), ("until", self.until)):
            if value is not None:
                out[key] = value.isoformat()
        if self.count is not None:
            out["count"] = self.count
        if self.created is not None:
            out["created"] = self.created.astimezone(UTC).isoformat()
        if self.replaces is not None:
            out["replaces"] = self.replaces
        return labelled_body(out, self.from_label)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Standing:
        return cls(inner=from_dict(data["inner"]), rule=data.get("rule"),
                   when=date.fromisoformat(data["when"]) if data.get("when") else None, tz=data["tz"],
                   hour=int(data["hour"]), count=data.get("count"),
                   until=date.fromisoformat(data["until"]) if data.get("until") else None,
                   created=datetime.fromisoformat(data["created"]) if data.get("created") else None,
                   replaces=data.get("replaces"), from_label=data.get("from_label"))

    def labelled(self, label: str) -> Payload:
        if self.from_label is not None:
            return self
        return Standing(self.inner.labelled(label), self.rule, self.when, self.tz, self.hour, self.count, self.until,
                        self.created, self.replaces, label)

    def next_runs(self, now: datetime) -> tuple[datetime, ...]:
        return timing(self.rule, self.when, self.end, now=now, tz=self.tz, hour=self.hour).next_runs

    def describe(self, lang: str) -> str:
        lines = [self.inner.describe(lang)]
        if self.rule:
            lines.append(t(lang, "Repeats: {rule}", rule=describe_rrule(self.rule, lang)))
        runs = self.next_runs(self.created or datetime.now(UTC))
        if runs:
            label = t(lang, "Next runs:") if self.rule else t(lang, "Runs on:")
            lines.append(label + " " + "; ".join(when_text(r, self.tz, lang) for r in runs))
        if self.count is not None:
            lines.append(t(lang, "Ends after {n} runs.", n=self.count))
        elif self.until is not None:
            lines.append(t(lang, "Ends on {day}.", day=fmt_date(self.until, lang)))
        elif self.rule:
            lines.append(t(lang, "No end date: it runs until you stop it (/schedules)."))
        if self.replaces is not None:
            lines.append(t(lang, "It replaces your standing order #{n}, which stops when you confirm.", n=self.replaces))
        return "\n".join(lines)

    def funds_needed(self) -> tuple[str, int] | None:
        return None  # money moves at each run, not now

    def amount_major(self) -> Decimal:
        return self.inner.amount_major()

    def payees(self) -> set[int | None]:
        return self.inner.payees()
