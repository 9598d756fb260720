"""Issue 9, the parser where it is dangerous: each class of mistake that reached a card, in en, nb
and fr. Every case asks back or reads right; none may put a wrong payee, amount or order on a card."""

from __future__ import annotations

import pytest

from .conftest import read, slots

# --- pronouns: a possessive in a note is never a payee; "to her" with no reply asks who --------

POSSESSIVE_NOTES = [
    ("send 20 to @bob for her birthday", "en", ["@bob"], "her birthday"),
    ("send @bob 20 for his ticket", "en", ["@bob"], "his ticket"),
    ("request 12 from @tina for their pizza", "en", ["@tina"], "their pizza"),
    ("send 200 kr til @ola til hennes bursdag", "nb", ["@ola"], "hennes bursdag"),
    ("betal @per 150 for hans billett", "nb", ["@per"], "hans billett"),
    ("envoie 20 € à @bob pour son anniversaire", "fr", ["@bob"], "son anniversaire"),
    ("demande 30 € à @ines pour leur cadeau", "fr", ["@ines"], "leur cadeau"),
]


@pytest.mark.parametrize(("text", "lang", "recipients", "note"), POSSESSIVE_NOTES)
def test_a_possessive_in_a_note_is_not_a_payee(text: str, lang: str, recipients: list[str], note: str) -> None:
    got = read(text, lang)
    assert list(got.recipients) == recipients
    assert got.note == note
    assert got.clarify is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [("send 8 for his coffee", "en"), ("pay her rent 20", "en"), ("send 60 kr for hennes kaffe", "nb"), ("envoie 8 € pour son café", "fr")],
)
def test_a_possessive_alone_names_no_one(text: str, lang: str) -> None:
    got = read(text, lang)
    assert got.recipients == ()
    assert got.clarify == "missing_recipient"


OBJECT_PRONOUNS = [
    ("send 20 to her", "en"),
    ("send 20 to him", "en"),
    ("send 20 to them", "en"),
    ("pay her 15", "en"),
    ("send 200 kr til henne", "nb"),
    ("send 200 kr til ham", "nb"),
    ("send 200 kr til dem", "nb"),
    ("envoie-lui 20 €", "fr"),
    ("envoie 20 € à elle", "fr"),
    ("envoie-leur 20 €", "fr"),
    ("peux-tu lui envoyer 20 €", "fr"),
]


@pytest.mark.parametrize(("text", "lang"), OBJECT_PRONOUNS)
def test_him_her_them_without_a_reply_asks_who(text: str, lang: str) -> None:
    got = read(text, lang, reply=False)
    assert got.intent == "send"
    assert got.amount is not None
    assert got.recipients == ()
    assert got.clarify == "missing_recipient"


@pytest.mark.parametrize(("text", "lang"), OBJECT_PRONOUNS)
def test_him_her_them_in_a_reply_is_the_replied_to_author(text: str, lang: str) -> None:
    for reply in (True, None):
        got = read(text, lang, reply=reply)
        assert got.recipients == ("reply",)
        assert got.clarify is None


def test_a_named_payee_and_a_pronoun_without_a_reply_asks() -> None:
    got = read("send 20 to @bob and her", "en", reply=False)
    assert got.clarify == "missing_recipient"


# --- French elisions are never names ------------------------------------------------------------

ELISIONS = [
    ("partage l'uber de 32 € avec @bob", ["@bob"]),
    ("partage l'addition de 90 € avec @max et @eva", ["@max", "@eva"]),
    ("partage jusqu'à 40 € avec anna", ["anna"]),
    ("envoie 20 € à @chloe qu'il m'a avancés", ["@chloe"]),
    ("rembourse @max des 15 € qu'il m'a prêtés", ["@max"]),
    ("divise l'apéro de 45 € avec @nico", ["@nico"]),
]


@pytest.mark.parametrize(("text", "recipients"), ELISIONS)
def test_french_elisions_are_not_names(text: str, recipients: list[str]) -> None:
    got = read(text, "fr")
    assert sorted(got.recipients) == sorted(recipients)
    assert not any(r.endswith("'") for r in got.recipients)


def test_slots_helper_still_reads_the_plain_case() -> None:
    assert slots("envoie 20 € à @anna", "fr")["recipients"] == ["@anna"]


# --- "worth of" keeps its currency ----------------------------------------------------------------

WORTH_OF = [
    ("buy 50 dollars worth of AAPL", "en", "AAPL", "50", "USD"),
    ("buy 50 dollar's worth of AAPL", "en", "AAPL", "50", "USD"),
    ("buy $50 worth of AAPL", "en", "AAPL", "50", "USD"),
    ("buy 30 pounds worth of tesla", "en", "TSLA", "30", "GBP"),
    ("buy fifty dollars worth of apple", "en", "AAPL", "50", "USD"),
    ("buy for 500 kr of EQNR", "en", "EQNR", "500", "NOK"),
    ("kjøp for 500 kr av Equinor", "nb", "EQNR", "500", "NOK"),
    ("kjøp 200 dollar verdt av apple", "nb", "AAPL", "200", "USD"),
    ("achète pour 200 € de LVMH", "fr", "MC", "200", "EUR"),
    ("achète pour 100 dollars d'actions Tesla", "fr", "TSLA", "100", "USD"),
    ("achète pour cent euros de LVMH", "fr", "MC", "100", "EUR"),
]


@pytest.mark.parametrize(("text", "lang", "symbol", "notional", "currency"), WORTH_OF)
def test_worth_of_keeps_the_currency(text: str, lang: str, symbol: str, notional: str, currency: str) -> None:
    got = slots(text, lang)
    assert got == {"intent": "buy", "lang": lang, "symbol": symbol, "notional": notional, "currency": currency}


@pytest.mark.parametrize(("text", "lang"), [("vends 50 pour cent de mes LVMH", "fr"), ("sell 50 per 100 of my tesla", "en")])
def test_n_per_hundred_is_a_percent(text: str, lang: str) -> None:
    assert read(text, lang).fraction is not None and str(read(text, lang).fraction) == "0.5"


# --- a price said as a condition is a limit price, never a quantity --------------------------------

CONDITIONS = [
    ("buy AAPL when it drops to 140", "en", "buy", "AAPL", None, "140"),
    ("buy tesla when it's at 200", "en", "buy", "TSLA", None, "200"),
    ("buy 5 AAPL when it drops to 140", "en", "buy", "AAPL", "5", "140"),
    ("buy 3 msft if the price falls below 400", "en", "buy", "MSFT", "3", "400"),
    ("buy 5 when tesla drops to 200", "en", "buy", "TSLA", "5", "200"),
    ("sell 10 nvda once nvidia hits 200", "en", "sell", "NVDA", "10", "200"),
    ("kjøp Equinor hvis den faller til 140", "nb", "buy", "EQNR", None, "140"),
    ("kjøp 10 Equinor når kursen går ned til 250", "nb", "buy", "EQNR", "10", "250"),
    ("kjøp 5 når Equinor faller til 250", "nb", "buy", "EQNR", "5", "250"),
    ("achète LVMH quand elle baisse à 140", "fr", "buy", "MC", None, "140"),
    ("achète 4 LVMH si le cours passe sous 600", "fr", "buy", "MC", "4", "600"),
    ("achète Airbus lorsqu'il tombe en dessous de 150", "fr", "buy", "AIR", None, "150"),
    ("achète 3 quand LVMH tombe à 600", "fr", "buy", "MC", "3", "600"),
]


@pytest.mark.parametrize(("text", "lang", "intent", "symbol", "quantity", "limit"), CONDITIONS)
def test_a_condition_price_is_a_limit(text: str, lang: str, intent: str, symbol: str, quantity: str | None, limit: str) -> None:
    got = read(text, lang).to_json_dict()
    assert (got["intent"], got["symbol"], got["quantity"], got["limit_price"]) == (intent, symbol, quantity, limit)
    assert got["clarify"] == (None if quantity else "missing_quantity")


# --- an unknown currency mark or code asks back, never becomes the default currency -------------

UNKNOWN_CURRENCIES = [
    ("send ¥500 to @bob", "en", "send"),
    ("send 5 BTC to @bob", "en", "send"),
    ("send ₹300 to @bob", "en", "send"),
    ("send R$5 to @bob", "en", "send"),
    ("send C$5 to @bob", "en", "send"),
    ("send ₩5000 to @bob", "en", "send"),
    ("send 500 yen to @bob", "en", "send"),
    ("send 5 bitcoin to @bob", "en", "send"),
    ("send 500 INR to @bob", "en", "send"),
    ("send 5 XYZ to @bob", "en", "send"),
    ("top up ₽1000", "en", "deposit"),
    ("buy 500 INR of AAPL", "en", "buy"),
    ("send 3 ETH til @ola", "nb", "send"),
    ("send ¥800 til @kari", "nb", "send"),
    ("be @per om 40 pesos", "nb", "request"),
    ("envoie ₹300 à @bob", "fr", "send"),
    ("envoie 20 R$ à @ana", "fr", "send"),
    ("envoie 20 francs à @paul", "fr", "send"),
    ("demande 1 bitcoin à @leo", "fr", "request"),
]


@pytest.mark.parametrize(("text", "lang", "intent"), UNKNOWN_CURRENCIES)
def test_an_unknown_currency_asks(text: str, lang: str, intent: str) -> None:
    got = read(text, lang)
    assert got.intent == intent
    assert got.clarify == "ambiguous_amount"
    assert got.currency is None and got.amount is None and got.notional is None and got.quantity is None


@pytest.mark.parametrize(("text", "lang", "code"), [("send 100 CHF to @bob", "en", "CHF"), ("ta ut 200 PLN", "nb", "PLN"), ("envoie 5000 JPY à @yuki", "fr", "JPY"), ("send US$5 to @bob", "en", "USD")])
def test_a_code_the_data_reads_is_that_currency(text: str, lang: str, code: str) -> None:
    got = read(text, lang)
    assert got.currency == code and got.clarify is None and got.amount is not None


@pytest.mark.parametrize("answer", ["¥500", "500 yen", "5 BTC", "R$5", "5 XYZ", "20, in yen"])
def test_an_answer_in_an_unknown_currency_is_not_an_amount(answer: str) -> None:
    from intents import parse_amount

    got = parse_amount(answer, "en")
    assert got is not None and got.clarify == "ambiguous_amount" and got.currency is None


# --- easy misses: acquiring verbs, chat spellings, "what did I pay" ------------------------------

EASY = [
    ("get me 4 shares of amazon", "en", {"intent": "buy", "symbol": "AMZN", "quantity": "4"}),
    ("grab 2 nvidia", "en", {"intent": "buy", "symbol": "NVDA", "quantity": "2"}),
    ("get me the price of tesla", "en", {"intent": "quote", "symbol": "TSLA"}),
    ("get me my balance", "en", {"intent": "balance"}),
    ("what can u do?", "en", {"intent": "help"}),
    ("chek ma balance", "en", {"intent": "balance"}),
    ("what did i pay last week?", "en", {"intent": "history"}),
    ("how much did i spend this week", "en", {"intent": "history"}),
    ("how do i send money?", "en", {"intent": "help"}),
    ("skaff meg 3 aksjer i tesla", "nb", {"intent": "buy", "symbol": "TSLA", "quantity": "3"}),
    ("ka kan du gjøre", "nb", {"intent": "help"}),
    ("hva betalte jeg i går", "nb", {"intent": "history"}),
    ("hvem har jeg betalt denne uka", "nb", {"intent": "history"}),
    ("c'est combien l'action lvmh", "fr", {"intent": "quote", "symbol": "MC"}),
    ("cb coûte airbus", "fr", {"intent": "quote", "symbol": "AIR"}),
    ("c koi mon solde", "fr", {"intent": "balance"}),
    ("qu'est-ce que j'ai payé hier", "fr", {"intent": "history"}),
    ("j'ai payé quoi cette semaine", "fr", {"intent": "history"}),
    ("prends 3 actions airbus", "fr", {"intent": "buy", "symbol": "AIR", "quantity": "3"}),
]


@pytest.mark.parametrize(("text", "lang", "want"), EASY)
def test_easy_misses(text: str, lang: str, want: dict[str, str]) -> None:
    got = slots(text, lang)
    assert {k: got.get(k) for k in want} == want


@pytest.mark.parametrize(
    ("text", "lang", "symbol", "quantity"),
    [("buy 5 $AAPL", "en", "AAPL", "5"), ("sell 3 $tsla at 200", "en", "TSLA", "3"), ("kjøp 10 $EQNR", "nb", "EQNR", "10"), ("achète 2 $MC", "fr", "MC", "2")],
)
def test_a_cashtag_is_the_instrument_not_dollars(text: str, lang: str, symbol: str, quantity: str) -> None:
    got = read(text, lang)
    assert (got.symbol, got.quantity, got.notional, got.currency) == (symbol, __import__("decimal").Decimal(quantity), None, None)
