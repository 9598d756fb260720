"""Language detection among the shipped languages: the words decide, the client's language breaks ties."""

from __future__ import annotations

import re
from functools import cache

from intents.lexicon import common, lexicon
from intents.normalize import fold

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[^\W\d_]+'")
_NB_CHARS = frozenset("æøåÆØÅ")
_FR_CHARS = frozenset("éèêëçàùûôîïœÉÈÊÇÀ")
_FOLD_CACHE: dict[str, str] = {}


@cache
def _weights() -> dict[str, tuple[tuple[str, float], ...]]:
    """For every known word, the weight it gives each language, in `languages` order
    (a word several languages share counts less; a language's detect words count more)."""
    langs = common().languages
    vocab = {lang: lexicon(lang).words() for lang in langs}
    out: dict[str, list[float]] = {}
    for k, lang in enumerate(langs):
        for word in vocab[lang]:
            owners = sum(1 for x in langs if word in vocab[x])
            out.setdefault(word, [0.0] * len(langs))[k] = 1.0 / owners
    for k, lang in enumerate(langs):
        for word in lexicon(lang).detect:
            out.setdefault(word, [0.0] * len(langs))[k] += 0.5
    return {word: tuple((langs[k], v) for k, v in enumerate(w) if v) for word, w in out.items()}


def _fold(word: str) -> str:
    f = _FOLD_CACHE.get(word)
    if f is None:
        f = fold(word)
        if len(_FOLD_CACHE) < 50000:
            _FOLD_CACHE[word] = f
    return f


_STRIP = "\"'.,!?;:()[]{}<>«»*-_/\\|~`^&%#+=…"


def scores(text: str) -> dict[str, float]:
    """How much each language's words the text holds."""
    weights = _weights()
    out = dict.fromkeys(common().languages, 0.0)
    ascii_text = text.isascii()
    get = weights.get
    for raw in text.lower().replace("-", " ").split():
        word = raw.strip(_STRIP)
        if not word:
            continue
        if not ascii_text:
            word = _fold(word)
        w = get(word)
        if w is None:
            if "'" in word:
                # "j'ai", "l'action": the elided article and the word both vote
                head, _, tail = word.partition("'")
                for part in (head + "'", tail):
                    for lang, v in get(part, ()):
                        out[lang] += v
            continue
        for lang, v in w:
            out[lang] += v
    if not ascii_text:
        chars = set(text)
        if chars & _NB_CHARS:
            out["nb"] = out.get("nb", 0.0) + 1.5
        if chars & _FR_CHARS:
            out["fr"] = out.get("fr", 0.0) + 1.0
    return out


def detect(text: str, hint: str | None = None, command_lang: str | None = None) -> str:
    """The language a text is written in; `hint` (the client's language) wins a tie."""
    total = scores(text)
    if command_lang is not None:
        total[command_lang] = total.get(command_lang, 0.0) + 0.75
    best_lang = ""
    best = -1.0
    tie = False
    for lang, score in total.items():  # in the order of common().languages
        if score > best + 1e-9:
            best_lang, best, tie = lang, score, False
        elif score > best - 1e-9:
            tie = True
            if lang == hint:
                best_lang = lang
    if hint is not None and tie and total.get(hint, -1.0) > best - 1e-9:
        return hint
    if best <= 0 and hint in total:
        return str(hint)
    return best_lang
