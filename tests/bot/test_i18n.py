"""The nb and fr catalogues are complete, keep every {placeholder}, and t() renders them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from bot import commands
from bot.i18n import fmt_money, t, tn
from bot.locale import extract as ex

LANGS = ("nb", "fr")


@pytest.fixture(scope="module")
def template() -> Catalog:
    return ex.extract()


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {lang: ex.load(lang) for lang in LANGS}


def test_the_extractor_finds_the_engine_strings(template: Catalog) -> None:
    ids = {m.id for m in template if m.id}
    assert {"Confirm", "Cancel", "Pay", "Decline", "Send {amount} to {who}"} <= ids
    assert set(ex.DYNAMIC_MSGIDS) <= ids


@pytest.mark.parametrize("lang", LANGS)
def test_every_msgid_has_a_translation(lang: str, template: Catalog, catalogs: dict[str, Catalog]) -> None:
    todo = ex.missing(template, catalogs[lang])
    assert not todo, (
        f"{len(todo)} msgid(s) without a non-fuzzy translation in bot/locale/{lang}.po "
        f"(run `python -m bot.locale.extract`, then translate):\n" + "\n".join(f"  {m!r}" for m in todo)
    )


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_the_placeholders(lang: str, catalogs: dict[str, Catalog]) -> None:
    wrong = []
    for msg in catalogs[lang]:
        if not msg.id or not msg.string:
            continue
        if isinstance(msg.id, tuple):  # plural forms: each may leave out {n} ("ett forsøk"), but nothing else
            msgid, forms, wanted = str(msg.id[1]), [str(f) for f in msg.string], ex.placeholders(str(msg.id[1]))
            allowed = [wanted, wanted - {"n"}]
        else:
            msgid, forms, wanted = str(msg.id), [str(msg.string)], ex.placeholders(str(msg.id))
            allowed = [wanted]
        for text in forms:
            try:
                same = ex.placeholders(text) in allowed
                text.format(**{name: "x" for name in wanted})
            except (ValueError, KeyError, IndexError):
                same = False
            if not same:
                wrong.append(f"  {msgid!r} -> {text!r}")
    assert not wrong, f"placeholders differ in bot/locale/{lang}.po:\n" + "\n".join(wrong)


def test_button_labels_are_the_contract_ones() -> None:
    assert t("nb", "Confirm") == "Bekreft"
    assert t("fr", "Confirm") == "Confirmer"
    assert commands.labels("nb") == {"confirm": "Bekreft", "cancel": "Avbryt", "pay": "Betal", "decline": "Avslå",
                                       "cancel_order": "Avbryt ordren", "claim": "Hent", "close": "Avslutt"}
    assert commands.labels("fr") == {"confirm": "Confirmer", "cancel": "Annuler", "pay": "Payer", "decline": "Refuser",
                                       "cancel_order": "Annuler l'ordre", "claim": "Prendre", "close": "Clore"}
    assert commands.labels("en")["confirm"] == "Confirm"


def test_formatted_messages_render_with_values() -> None:
    nok = fmt_money(Decimal("200"), "NOK", "nb")
    eur = fmt_money(Decimal("20"), "EUR", "fr")
    assert t("nb", "Send {amount} to {who}", amount=nok, who="@anna") == f"Send {nok} til @anna"
    assert t("fr", "Send {amount} to {who}", amount=eur, who="@anna") == f"Envoyer {eur} à @anna"
    assert tn("fr", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 2) == "Code PIN incorrect. Il vous reste 2 essais."
    assert tn("fr", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 1) == "Code PIN incorrect. Il vous reste 1 essai."
    assert tn("en", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 2) == "Wrong PIN. 2 tries left."
    assert tn("en", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 1) == "Wrong PIN. 1 try left."
    assert t("nb", "executed") == "utført"


def test_the_menu_and_help_are_translated() -> None:
    for lang in LANGS:
        english = dict(commands.menu("en"))
        for name, text in commands.menu(lang):
            assert text and text != english[name], (lang, name)
    assert "send 200 kr til @anna" in commands.help_text("nb")
    assert "envoie 20 € à @anna" in commands.help_text("fr")


def test_plural_msgids_are_extracted_and_need_every_form(tmp_path: Path) -> None:
    src = tmp_path / "bot"
    src.mkdir()
    (src / "one.py").write_text('from bot.i18n import tn\ntn(lang, "{n} apple", "{n} apples", k)\n')
    template = ex.extract(src)
    assert ("{n} apple", "{n} apples") in [m.id for m in template]
    todo = ex.merge(template, langs=("nb",), locale_dir=tmp_path)
    assert "{n} apple" in todo["nb"]
    merged = ex.load("nb", tmp_path)
    merged.get("{n} apple").string = ("{n} eple", "")
    assert "{n} apple" in ex.missing(template, merged), "one form missing is missing"
    merged.get("{n} apple").string = ("{n} eple", "{n} epler")
    assert "{n} apple" not in ex.missing(template, merged)


def test_merge_adds_new_msgids_and_keeps_translations(tmp_path: Path) -> None:
    src = tmp_path / "bot"
    src.mkdir()
    (src / "one.py").write_text('from bot.i18n import t\nt(lang, "Hello {name}", name=n)\nt(lang, "Bye")\n')
    (tmp_path / "nb.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Hello {name}"\nmsgstr "Hei {name}"\n\nmsgid "Gone"\nmsgstr "Borte"\n',
        encoding="utf-8",
    )
    template = ex.extract(src)
    assert {"Hello {name}", "Bye"} <= {m.id for m in template}
    todo = ex.merge(template, langs=("nb",), locale_dir=tmp_path)
    assert "Bye" in todo["nb"] and "Hello {name}" not in todo["nb"]
    merged = ex.load("nb", tmp_path)
    assert merged.get("Hello {name}").string == "Hei {name}"
    assert merged.get("Bye").string == ""
    assert "Gone" in merged.obsolete
