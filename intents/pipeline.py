"""spaCy blank pipelines, built once per language, with the finbot lexicon matcher as a component."""

from __future__ import annotations

import threading
from typing import Any

import spacy
from spacy.attrs import IDX, LENGTH, NORM
from spacy.language import BaseDefaults, Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from intents.directory import InstrumentDirectory, load_directory
from intents.lexicon import common, lexicon
from intents.normalize import fold

_LOCK = threading.Lock()
_PIPELINES: dict[str, Language] = {}
_SYMBOLS: dict[tuple[str, int], tuple[InstrumentDirectory, SymbolMatcher]] = {}


def _light_french() -> Language:
    """French without spaCy's 2-second token_match regex: the same affix rules, few exceptions."""
    from spacy.lang.char_classes import (
        ALPHA,
        ALPHA_LOWER,
        ALPHA_UPPER,
        CONCAT_QUOTES,
        CURRENCY,
        HYPHENS,
        LIST_ELLIPSES,
        LIST_PUNCT,
        LIST_QUOTES,
        UNITS,
    )
    from spacy.lang.punctuation import TOKENIZER_INFIXES, TOKENIZER_PREFIXES
    from spacy.lang.tokenizer_exceptions import BASE_EXCEPTIONS
    from spacy.symbols import ORTH
    from spacy.util import update_exc

    elision = "'’"
    fr_prefixes = [*TOKENIZER_PREFIXES, rf"(?:([dlnDLN])[{elision}])(?=[{ALPHA}])"]
    fr_suffixes = [
        *LIST_PUNCT,
        *LIST_ELLIPSES,
        *LIST_QUOTES,
        r"(?<=[0-9])\+",
        r"(?<=[0-9])%",
        rf"(?<=[0-9])(?:{CURRENCY})",
        rf"(?<=[0-9])(?:{UNITS})",
        rf"(?<=[0-9{ALPHA_LOWER}%²\-\+(?:{CONCAT_QUOTES})])\.",
        rf"(?<=[{ALPHA_UPPER}][{ALPHA_UPPER}])\.",
    ]
    fr_infixes = [*TOKENIZER_INFIXES, rf"(?<=[{ALPHA}][{elision}])(?=[{ALPHA}])", rf"(?<=[{ALPHA}])(?:{HYPHENS})(?=[{ALPHA}])"]
    own = {w: [{ORTH: w}] for w in ("aujourd'hui", "Aujourd'hui", "quelqu'un", "presqu'île")}

    class LightFrenchDefaults(BaseDefaults):
        tokenizer_exceptions = update_exc(BASE_EXCEPTIONS, own)
        prefixes = tuple(fr_prefixes)
        suffixes = tuple(fr_suffixes)
        infixes = tuple(fr_infixes)

    class LightFrench(Language):  # type: ignore[no-untyped-call]
        lang = "fr"
        Defaults = LightFrenchDefaults

    return LightFrench()


Cats = dict[str, str]  # category -> value, e.g. {"intent": "send"}, {"cur": "USD", "filler": ""}
Spans = dict[tuple[int, int], Cats]  # (first token, end token) -> categories


class Reading:
    """What the component found in a doc: token offsets and the categorised token spans."""

    __slots__ = ("offsets", "spans", "longest")

    def __init__(self, offsets: list[tuple[int, int]], spans: Spans, longest: dict[int, int]) -> None:
        self.offsets = offsets  # (char index, length) per token
        self.spans = spans
        self.longest = longest  # first token -> end token of the longest span starting there

    def drop(self, cat: str) -> None:
        """Forget one category everywhere (the spans that carried only it go)."""
        spans: Spans = {}
        for key, cats in self.spans.items():
            if cat in cats:
                cats = {k: v for k, v in cats.items() if k != cat}
            if cats:
                spans[key] = cats
        self.spans = spans
        longest: dict[int, int] = {}
        for start, end in spans:
            if end > longest.get(start, start):
                longest[start] = end
        self.longest = longest

    def add(self, start: int, end: int, cat: str, value: str) -> None:
        """Tag one more span (the categories of a span are never shared between spans)."""
        key = (start, end)
        cats = self.spans.get(key)
        self.spans[key] = {**cats, cat: value} if cats else {cat: value}
        if end > self.longest.get(start, start):
            self.longest[start] = end


class LexiconMatcher:
    """The pipeline component: tags every token span the language's data names."""

    def __init__(self, nlp: Language, lang: str, symbols: bool = True) -> None:
        lex = lexicon(lang)
        self.phrases = PhraseMatcher(nlp.vocab, attr="NORM")
        # One key per distinct phrase (as folded tokens): a span is matched once, with all its
        # categories; the packaged directory's names are phrases too ("sym"), so one pass finds all.
        entries = list(lex.phrases)
        if symbols:
            entries.extend(("sym", symbol, name) for name, symbol in symbol_names(load_directory()))
        # Token patterns of the data ("hvordan <verb> jeg" -> help), folded like the NORM; the
        # Matcher runs only when the PhraseMatcher saw a gate word: for each pattern, the words of
        # its least common required token ("drops", "falls" rather than "if", "when"), judged by
        # how many of them the language's frequent words (`detect`) hold.
        self.shapes = Matcher(nlp.vocab)
        gate: set[str] = set()
        frequent = {fold(w) for w in lex.detect}
        shape_labels: dict[int, Cats] = {}
        for cat, value, spec in lex.patterns:
            key = f"{cat}\t{value}"
            tokens = [_fold_spec(tok) for tok in spec]
            self.shapes.add(key, [tokens])
            shape_labels[nlp.vocab.strings[key]] = {cat: value}
            required: list[frozenset[str]] = [
                accepted for tok in tokens
                if tok.get("OP") not in ("?", "*") and (accepted := _norm_words(tok.get("NORM")))]
            if required:
                rarest: frozenset[str] = min(required, key=lambda words: (len(words & frequent), len(words)))
                gate.update(rarest)
        by_phrase: dict[str, tuple[Doc, Cats]] = {}
        for cat, value, phrase in entries:
            doc = _phrase_doc(nlp, phrase)
            key = " ".join(t.norm_ for t in doc)
            if not key:
                continue
            entry = by_phrase.setdefault(key, (doc, {}))
            entry[1].setdefault(cat, value)
        for word in gate:
            by_phrase.setdefault(word, (_phrase_doc(nlp, word), {}))
        self.labels: dict[int, Cats] = {}
        self.gate_ids: frozenset[int] = frozenset(nlp.vocab.strings[w] for w in gate)
        for key, (doc, cats) in by_phrase.items():
            self.phrases.add(key, [doc])
            if cats:
                self.labels[nlp.vocab.strings[key]] = cats
        self.shape_labels = shape_labels

    def __call__(self, doc: Doc) -> Doc:
        labels = self.labels
        gate_ids = self.gate_ids
        gated = False
        spans: Spans = {}
        longest: dict[int, int] = {}
        for match_id, start, end in self.phrases(doc):
            if match_id in gate_ids:
                gated = True
            cats = labels.get(match_id)
            if cats is None:
                continue
            spans[(start, end)] = cats
            if end > longest.get(start, start):
                longest[start] = end
        offsets = doc.to_array([IDX, LENGTH]).tolist() if len(doc) else []
        reading = Reading(offsets, spans, longest)
        if gated:
            for match_id, start, end in self.shapes(doc):
                for cat, value in self.shape_labels[match_id].items():
                    reading.add(start, end, cat, value)
        doc.user_data["finbot"] = reading
        return doc


def _norm_words(norm: object) -> frozenset[str]:
    """The words one token of a pattern accepts as its NORM (empty when it tests no NORM)."""
    if isinstance(norm, str):
        return frozenset({norm})
    if isinstance(norm, dict):
        vals = norm.get("IN")
        if isinstance(vals, list):
            return frozenset(str(v) for v in vals)
    return frozenset()


def _phrase_doc(nlp: Language, phrase: str) -> Doc:
    """A phrase of the data as the tokenizer cuts it inside a message. An elided word alone
    ("l'", "d'", "qu'", "m'") is one token before a word ("l'uber") but two at the end of a text
    ("l" "'"): read it with a word after it, then leave that word off."""
    if phrase.endswith("'") and not phrase.endswith(" '"):
        doc = nlp.make_doc(phrase + "x")
        if len(doc) > 1 and doc[-1].text == "x" and doc[-2].text.endswith("'"):
            return doc[:-1].as_doc()
    return nlp.make_doc(phrase)


def _fold_spec(token: object) -> dict[str, object]:
    """A token pattern with its NORM values folded the way the vocabulary folds them."""
    assert isinstance(token, dict)
    out: dict[str, object] = {}
    for key, value in token.items():
        if key == "NORM" and isinstance(value, str):
            out[key] = fold(value)
        elif key == "NORM" and isinstance(value, dict):
            out[key] = {op: [fold(str(v)) for v in vals] if isinstance(vals, list) else vals for op, vals in value.items()}
        else:
            out[str(key)] = value
    return out


@Language.factory("finbot_lexicon", default_config={"lang": "en", "symbols": True})
def _make_lexicon_matcher(nlp: Language, name: str, lang: str, symbols: bool) -> LexiconMatcher:
    return LexiconMatcher(nlp, lang, symbols)


def symbol_names(directory: InstrumentDirectory) -> list[tuple[str, str]]:
    """(folded name, symbol) for every name, alias and (unless it is a word) ticker of a directory."""
    sensitive = common().case_sensitive_symbols
    out: list[tuple[str, str]] = []
    for inst in directory.all():
        names = {fold(n) for n in inst.names()} | {fold(inst.name)}
        if inst.symbol not in sensitive:
            names.add(fold(inst.symbol))
        names.discard("")
        out.extend((name, inst.symbol) for name in sorted(names))
    return out


class SymbolMatcher:
    """Finds a directory's instruments in a doc: names and aliases, and tickers as written.
    For the packaged directory the pipeline's own component has tagged them already."""

    def __init__(self, nlp: Language, directory: InstrumentDirectory, builtin: bool) -> None:
        self.builtin = builtin
        self.phrases: PhraseMatcher | None = None if builtin else PhraseMatcher(nlp.vocab, attr="NORM")
        self.labels: dict[int, str] = {}
        # Tickers that are also ordinary words (OR, AIR, MC) count only as written, in capitals.
        self.exact: dict[str, str] = {inst.symbol: inst.symbol for inst in directory.all()}
        self.single: dict[str, str] = {}
        self._glued: dict[tuple[str, ...], dict[str, str]] = {}
        by_symbol: dict[str, list[str]] = {}
        for name, symbol in symbol_names(directory):
            by_symbol.setdefault(symbol, []).append(name)
            if " " not in name:
                self.single.setdefault(name, symbol)
        if self.phrases is not None:
            for symbol, names in by_symbol.items():
                key = f"sym\t{symbol}"
                self.phrases.add(key, [nlp.make_doc(n) for n in names])
                self.labels[nlp.vocab.strings[key]] = symbol

    def glued(self, suffixes: tuple[str, ...]) -> dict[str, str]:
        """Inflected one-word names ("teslaen", "apples") -> symbol, for a language's suffixes."""
        table = self._glued.get(suffixes)
        if table is None:
            table = {}
            for name, symbol in self.single.items():
                if len(name) >= 3:
                    for suffix in suffixes:
                        table.setdefault(name + suffix, symbol)
            self._glued[suffixes] = table
        return table

    def tag(self, doc: Doc, reading: Reading) -> None:
        """Make the reading's "sym" spans this directory's."""
        if self.phrases is None:
            return
        reading.drop("sym")
        labels = self.labels
        for m, s, e in self.phrases(doc):
            reading.add(s, e, "sym", labels[m])


def build_pipeline(lang: str) -> Language:
    """A new blank pipeline for one language: tokenizer, accent-free NORM, lexicon matcher."""
    lex = lexicon(lang)
    nlp = _light_french() if lex.spacy == "fr" else spacy.blank(lex.spacy)
    getters: Any = nlp.vocab.lex_attr_getters  # type: ignore[attr-defined]
    slang = lex.slang

    def norm(word: str) -> str:
        # The folded word, with chat spellings read as the word ("u" -> "you", "koi" -> "quoi").
        folded = fold(word)
        return slang.get(folded, folded)

    getters[NORM] = norm if slang else fold
    for lexeme in nlp.vocab:
        lexeme.norm_ = getters[NORM](lexeme.orth_)
    nlp.add_pipe("finbot_lexicon", config={"lang": lang})
    return nlp


# A vocabulary learns every new token it sees (each new amount, each name); a long-running bot
# would grow it without end, so a pipeline whose vocabulary passes this size is built afresh.
VOCAB_LIMIT = 300_000
_CHECK_EVERY = 8192
_CALLS: dict[str, int] = {}


def pipeline(lang: str) -> Language:
    """The shared pipeline of one language, built on first use (and afresh when its vocabulary
    has grown past VOCAB_LIMIT, which changes no reading)."""
    nlp = _PIPELINES.get(lang)
    calls = _CALLS.get(lang, 0) + 1
    _CALLS[lang] = calls
    if nlp is not None and calls % _CHECK_EVERY == 0 and len(nlp.vocab) > VOCAB_LIMIT:
        with _LOCK:
            _PIPELINES.pop(lang, None)
            for key in [k for k in _SYMBOLS if k[0] == lang]:
                del _SYMBOLS[key]
            _COMPONENTS.pop(id(nlp), None)
        nlp = None
    if nlp is None:
        with _LOCK:
            nlp = _PIPELINES.get(lang)
            if nlp is None:
                nlp = build_pipeline(lang)
                _PIPELINES[lang] = nlp
    return nlp


def symbol_matcher(lang: str, directory: InstrumentDirectory) -> SymbolMatcher:
    """The symbol matcher of one directory on one language's vocabulary, built on first use."""
    key = (lang, id(directory))
    hit = _SYMBOLS.get(key)
    if hit is not None and hit[0] is directory:
        return hit[1]
    nlp = pipeline(lang)
    with _LOCK:
        matcher = SymbolMatcher(nlp, directory, builtin=directory is load_directory())
        if len(_SYMBOLS) > 64:
            _SYMBOLS.clear()
        _SYMBOLS[key] = (directory, matcher)
    return matcher


def warm_up(langs: tuple[str, ...] | None = None, directory: InstrumentDirectory | None = None) -> None:
    """Build the pipelines (and the directory's symbol matchers) ahead of the first message."""
    d = directory if directory is not None else load_directory()
    for lang in langs or common().languages:
        symbol_matcher(lang, d)


def reading(doc: Doc) -> Reading:
    """What the finbot component stored on a doc."""
    stored: Any = doc.user_data.get("finbot")
    assert isinstance(stored, Reading), "run the doc through a finbot pipeline first"
    return stored


_COMPONENTS: dict[int, tuple[Language, list[Any]]] = {}


def read(nlp: Language, text: str) -> Doc:
    """Run a finbot pipeline on a text: tokenizer, then each component (as nlp(text) does)."""
    hit = _COMPONENTS.get(id(nlp))
    if hit is None or hit[0] is not nlp:
        hit = (nlp, [proc for _name, proc in nlp.pipeline])
        if len(_COMPONENTS) > 16:
            _COMPONENTS.clear()
        _COMPONENTS[id(nlp)] = hit
    procs = hit[1]
    doc = nlp.make_doc(text)
    for proc in procs:
        doc = proc(doc)
    return doc
