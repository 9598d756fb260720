"""Recurrences to canonical RRULEs and one-off dates resolved against `now` (a Wednesday)."""

from __future__ import annotations

import datetime

import pytest

from intents import parse

from .conftest import NOW, read


@pytest.mark.parametrize(
    ("text", "lang", "rule"),
    [
        ("every monday send @mom 50", "en", "FREQ=WEEKLY;BYDAY=MO"),
        ("send @mom 50 every week", "en", "FREQ=WEEKLY"),
        ("send @mom 50 weekly", "en", "FREQ=WEEKLY"),
        ("send @mom 50 every other week", "en", "FREQ=WEEKLY;INTERVAL=2"),
        ("send @mom 50 every 2 weeks", "en", "FREQ=WEEKLY;INTERVAL=2"),
        ("send @mom 50 every two weeks", "en", "FREQ=WEEKLY;INTERVAL=2"),
        ("send @mom 5 daily", "en", "FREQ=DAILY"),
        ("send @mom 5 every 3 days", "en", "FREQ=DAILY;INTERVAL=3"),
        ("send @mom 50 every month", "en", "FREQ=MONTHLY"),
        ("send @mom 50 on the 1st of every month", "en", "FREQ=MONTHLY;BYMONTHDAY=1"),
        ("send @mom 50 every month on the 15th", "en", "FREQ=MONTHLY;BYMONTHDAY=15"),
        ("send @mom 50 monthly on the 1st", "en", "FREQ=MONTHLY;BYMONTHDAY=1"),
        ("send @mom 50 every thursday and monday", "en", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("send @mom 50 every other monday", "en", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
        ("send @mom 5 every weekday", "en", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("send @mom 50 on fridays", "en", "FREQ=WEEKLY;BYDAY=FR"),
        ("send @mom 50 every year", "en", "FREQ=YEARLY"),
        ("send 100 kr til @ola hver fredag", "nb", "FREQ=WEEKLY;BYDAY=FR"),
        ("send 100 kr til @ola hver uke", "nb", "FREQ=WEEKLY"),
        ("send 100 kr til @ola annenhver uke", "nb", "FREQ=WEEKLY;INTERVAL=2"),
        ("send 100 kr til @ola hver dag", "nb", "FREQ=DAILY"),
        ("send 100 kr til @ola daglig", "nb", "FREQ=DAILY"),
        ("send 500 til @ola den 1. hver måned", "nb", "FREQ=MONTHLY;BYMONTHDAY=1"),
        ("send 500 til @ola hver 15. i måneden", "nb", "FREQ=MONTHLY;BYMONTHDAY=15"),
        ("envoie 50 € à @anna tous les lundis", "fr", "FREQ=WEEKLY;BYDAY=MO"),
        ("envoie 50 € à @anna chaque semaine", "fr", "FREQ=WEEKLY"),
        ("envoie 50 € à @anna toutes les deux semaines", "fr", "FREQ=WEEKLY;INTERVAL=2"),
        ("envoie 50 € à @anna tous les jours", "fr", "FREQ=DAILY"),
        ("envoie 50 € à @anna le 1er de chaque mois", "fr", "FREQ=MONTHLY;BYMONTHDAY=1"),
        ("envoie 60 € à @anna le 15 de chaque mois", "fr", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ],
)
def test_recurrences(text: str, lang: str, rule: str) -> None:
    got = read(text, lang)
    assert got.recurrence == rule, got
    assert got.when is None
    assert got.amount is not None and got.clarify is None


@pytest.mark.parametrize(
    ("text", "lang", "day"),
    [
        ("send @anna 50 tomorrow", "en", "2026-11-19"),
        ("send @anna 50 the day after tomorrow", "en", "2026-11-20"),
        ("send @anna 50 next friday", "en", "2026-11-20"),
        ("send @anna 50 on friday", "en", "2026-11-20"),
        ("send @anna 50 on monday", "en", "2026-11-23"),
        ("send @anna 50 on wednesday", "en", "2026-11-25"),  # strictly after today
        ("send @anna 50 on 5 December", "en", "2026-12-05"),
        ("send @anna 50 on december 5th", "en", "2026-12-05"),
        ("send @anna 50 on 5 March", "en", "2027-03-05"),  # already past this year
        ("send @anna 50 on the 5th", "en", "2026-12-05"),
        ("send @anna 50 in 3 days", "en", "2026-11-21"),
        ("send @anna 50 in a week", "en", "2026-11-25"),
        ("send 200 kr til @kari i morgen", "nb", "2026-11-19"),
        ("send 200 kr til @kari overimorgen", "nb", "2026-11-20"),
        ("send 200 kr til @kari på fredag", "nb", "2026-11-20"),
        ("send 200 kr til @kari neste mandag", "nb", "2026-11-23"),
        ("send 200 kr til @kari den 24. desember", "nb", "2026-12-24"),
        ("send 200 kr til @kari 5. desember", "nb", "2026-12-05"),
        ("send 200 kr til @kari om 2 uker", "nb", "2026-12-02"),
        ("envoie 20 € à @anna demain", "fr", "2026-11-19"),
        ("envoie 20 € à @anna après-demain", "fr", "2026-11-20"),
        ("envoie 20 € à @anna lundi prochain", "fr", "2026-11-23"),
        ("envoie 20 € à @anna vendredi", "fr", "2026-11-20"),
        ("envoie 20 € à @anna le 5 décembre", "fr", "2026-12-05"),
        ("envoie 20 € à @anna dans 10 jours", "fr", "2026-11-28"),
    ],
)
def test_one_off_dates(text: str, lang: str, day: str) -> None:
    got = read(text, lang)
    assert got.when == datetime.date.fromisoformat(day), got
    assert got.recurrence is None
    assert got.amount is not None and got.clarify is None


def test_dates_follow_now() -> None:
    new_year_eve = datetime.datetime(2026, 12, 31, 23, 0)
    assert parse("send @anna 5 tomorrow", now=new_year_eve).when == datetime.date(2027, 1, 1)
    friday = datetime.datetime(2026, 11, 20, 9, 0)
    assert parse("send @anna 5 on friday", now=friday).when == datetime.date(2026, 11, 27)
    leap = datetime.datetime(2027, 1, 31, 9, 0)
    assert parse("send @anna 5 on the 31st", now=leap).when == datetime.date(2027, 3, 31)


def test_date_numbers_are_not_amounts() -> None:
    got = read("send @anna 50 on 5 December")
    assert got.amount == 50 and got.clarify is None
    got = read("send 100 to @anna every 2 weeks")
    assert got.amount == 100 and got.clarify is None
    got = read("send 500 til @ola den 1. hver måned", "nb")
    assert got.amount == 500


def test_now_is_the_only_clock() -> None:
    a = read("send @anna 50 tomorrow")
    b = parse("send @anna 50 tomorrow", now=NOW + datetime.timedelta(days=7))
    assert a.when is not None and b.when is not None
    assert (b.when - a.when).days == 7
