"""Regenerate bot/locale/finbot.pot from the sources and merge new msgids into every <lang>.po.

    python -m bot.locale.extract           # write finbot.pot, update nb.po and fr.po
    python -m bot.locale.extract --check   # write nothing; exit 1 when a msgid lacks a translation

Every user-visible string in bot/*.py is written `t(lang, "English text", name=value)`, so the
msgid is the second argument of `t` (babel keyword spec {"t": (2,)}). Existing translations are
kept; a msgid the lead reworded comes back as a fuzzy suggestion (which `t` ignores until a
translator checks it and removes the fuzzy flag); msgids no longer in the code are kept at the end
of the file as obsolete (#~) entries.

Some msgids are only known at run time (statuses passed as `t(lang, a.status)`); they are listed
in DYNAMIC_MSGIDS so they are in the template too.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from string import Formatter

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

LOCALE_DIR = Path(__file__).resolve().parent
BOT_DIR = LOCALE_DIR.parent
ROOT = BOT_DIR.parent
TEMPLATE = LOCALE_DIR / "finbot.pot"
LANGS = ("nb", "fr")
KEYWORDS = {"t": (2,), "tn": (2, 3)}
# adapters whose own words people read (the terminal chat) take their messages from the same catalogues
EXTRA_DIRS = (ROOT / "adapters" / "local", ROOT / "adapters" / "web")

# msgids that reach t() through a variable: statuses of actions, payment requests and orders
# (an order status is shown with "_" replaced by a space).
DYNAMIC_MSGIDS: dict[str, str] = {
    "awaiting_confirm": "action status",
    "awaiting_stepup": "action status",
    "executing": "action status",
    "executed": "action status",
    "cancelled": "action or payment request status",
    "expired": "action or order status",
    "failed": "action status",
    "open": "payment request status",
    "paid": "payment request status (also the verb in 'Filled ...; {what} {amount}')",
    "declined": "payment request status",
    "new": "order status",
    "accepted": "order status",
    "partially filled": "order status",
    "filled": "order status",
    "canceled": "order status",
    "rejected": "order status",
}

HEADER = """\
# Messages of finbot's conversation engine ({what}).
# Generated and merged by `python -m bot.locale.extract`; see bot/locale/README.md.
#"""


def placeholders(text: str) -> set[str]:
    """The names of the {placeholders} in a message (ValueError when its braces do not pair up)."""
    return {re.split(r"[.\[]", name, maxsplit=1)[0] for _, name, _, _ in Formatter().parse(text) if name is not None}


def _scan_dir(path: str) -> bool:
    """True for the directories to scan: all of bot/ except the catalogues themselves."""
    return Path(path).name not in ("locale", "__pycache__")


def extract(bot_dir: Path = BOT_DIR) -> Catalog:
    """The template catalogue: every msgid of t() calls under bot_dir plus DYNAMIC_MSGIDS."""
    template = Catalog(project="finbot", version="0.1.0", header_comment=HEADER.format(what="template"),
                       fuzzy=False, charset="utf-8")
    template.msgid_bugs_address = ""
    dirs = [bot_dir] + ([d for d in EXTRA_DIRS if d.is_dir()] if bot_dir == BOT_DIR else [])
    for source in dirs:
        prefix = source.relative_to(ROOT).as_posix() if source.is_relative_to(ROOT) else source.name
        for filename, lineno, message, comments, context in extract_from_dir(
            source, method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("i18n:",), strip_comment_tags=True, directory_filter=_scan_dir,
        ):
            if isinstance(message, tuple):  # tn(lang, singular, plural, n): a message with plural forms
                if len(message) != 2 or not all(isinstance(m, str) and m for m in message):
                    continue
            elif not isinstance(message, str) or not message:
                continue
            template.add(message, None, [(f"{prefix}/{filename}", lineno)], auto_comments=comments, context=context)
    for msgid, note in DYNAMIC_MSGIDS.items():
        if msgid not in template:
            template.add(msgid, None, auto_comments=[f"{note}; passed to t() at run time"])
    return template


def _po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=0, include_lineno=False, ignore_obsolete=False)
    return buf.getvalue()


_DATES = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"\n', re.M)


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write data unless the file already says the same apart from its header dates."""
    if path.exists() and _DATES.sub(b"", path.read_bytes()) == _DATES.sub(b"", data):
        return False
    path.write_bytes(data)
    return True


def load(lang: str, locale_dir: Path = LOCALE_DIR) -> Catalog:
    """The catalogue of one language as stored (an empty one when there is no file yet)."""
    path = locale_dir / f"{lang}.po"
    if not path.exists():
        catalog = Catalog(locale=lang, project="finbot", version="0.1.0", header_comment=HEADER.format(what=lang),
                          language_team="finbot", fuzzy=False, charset="utf-8")
        catalog.msgid_bugs_address = ""
        return catalog
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def missing(template: Catalog, catalog: Catalog) -> list[str]:
    """Msgids of the template without a usable (non-empty, non-fuzzy) translation in catalog."""
    out = []
    for msg in template:
        if not msg.id:
            continue
        have = catalog.get(msg.id, msg.context)
        forms = have.string if have is not None and isinstance(have.string, tuple | list) else (have.string if have else "",)
        if have is None or not all(forms) or have.fuzzy or isinstance(msg.id, tuple) != isinstance(have.id, tuple):
            out.append(str(msg.id[0] if isinstance(msg.id, tuple) else msg.id))
    return out


def merge(template: Catalog, langs: Iterable[str] = LANGS, locale_dir: Path = LOCALE_DIR) -> dict[str, list[str]]:
    """Bring every <lang>.po up to the template, keeping translations; the msgids still to translate."""
    todo: dict[str, list[str]] = {}
    for lang in langs:
        catalog = load(lang, locale_dir)
        catalog.update(template)
        catalog.fuzzy = False
        for key in [k for k, m in catalog.obsolete.items() if not m.string]:
            del catalog.obsolete[key]  # nothing worth keeping
        _write_if_changed(locale_dir / f"{lang}.po", _po_bytes(catalog))
        todo[lang] = missing(template, catalog)
    return todo


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.locale.extract", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a translation is missing")
    args = ap.parse_args(argv)
    template = extract()
    if args.check:
        todo = {lang: missing(template, load(lang)) for lang in LANGS}
    else:
        _write_if_changed(TEMPLATE, _po_bytes(template))
        todo = merge(template)
    print(f"{sum(1 for m in template if m.id)} msgids in {TEMPLATE.relative_to(ROOT)}")
    for lang, ids in todo.items():
        print(f"{lang}.po: {len(ids)} to translate")
        for msgid in ids:
            print(f"  {msgid!r}")
    return 1 if args.check and any(todo.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
