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
def _weights() -> dict[str, dict[str, float]]:
    """For every known word, the weight it gives each language (shared words count less)."""
    langs = common().languages
    vocab = {lang: lexicon(lang).words() for lang in langs}
    out: dict[str, dict[str, float]] = {}
    for lang in langs:
        for word in vocab[lang]:
            owners = [x for x in langs if word in vocab[x]]
            out.setdefault(word, {})[lang] = 1.0 / len(owners)
    for lang in langs:
        for word in lexicon(lang).detect:
            out.setdefault(word, {})[lang] = out.get(word, {}).get(lang, 0.0) + 0.5
    return out


def _fold(word: str) -> str:
    f = _FOLD_CACHE.get(word)
    if f is None:
        f = fold(word)
        if len(_FOLD_CACHE) < 50000:
            _FOLD_CACHE[word] = f
    return f


def scores(text: str) -> dict[str, float]:
    """How much each language's words the text holds."""
    weights = _weights()
    langs = common().languages
    total = dict.fromkeys(langs, 0.0)
    ascii_text = text.isascii()
    for word in _WORD.findall(text.lower()):
        w = weights.get(word if ascii_text else _fold(word))
        if w is None and "'" in word:
            w = weights.get(_fold(word.split("'")[0] + "'"))
        if w is not None:
            for lang, v in w.items():
                total[lang] += v
    if not ascii_text:
        chars = set(text)
        if chars & _NB_CHARS:
            total["nb"] = total.get("nb", 0.0) + 1.5
        if chars & _FR_CHARS:
            total["fr"] = total.get("fr", 0.0) + 1.0
    return total


def detect(text: str, hint: str | None = None, command_lang: str | None = None) -> str:
    """The language a text is written in; `hint` (the client's language) wins a tie."""
    langs = common().languages
    total = scores(text)
    if command_lang is not None:
        total[command_lang] = total.get(command_lang, 0.0) + 0.75
    best = max(total.values())
    top = [lang for lang in langs if total[lang] >= best - 1e-9]
    if hint in top:
        return str(hint)
    if len(top) == 1 or best > 0:
        return top[0]
    return hint if hint in langs else langs[0]
