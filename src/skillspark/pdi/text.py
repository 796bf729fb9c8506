"""Token-level similarity ψ between two texts (or two token lists): the one primitive every PDI term uses.

Two methods, as in SPARK:
- `token_overlap`: Jaccard |A∩B|/|A∪B| over token sets; with `coverage=True` it is |src∩tgt|/|tgt|
  (how much of the target is found in the source; the online exec term uses this).
- `js_divergence`: ψ = 1 − JS(P, Q), natural logs, P and Q the Laplace-smoothed (α = 0.002) token
  frequencies over the union vocabulary. ψ is in [1 − ln 2, 1].

Degenerate inputs, as in SPARK: with `token_overlap` an empty side gives 0 (nothing in common); with
`js_divergence` an empty side is the uniform distribution (its counts are all α), so ψ is not 0, and a
vocabulary of fewer than two tokens gives 0 (a one-token distribution carries no shape). Callers decide
when there is nothing to compare ("exec = 0 with no facts", "plan = 0 with no previous memo").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal, get_args

Method = Literal["token_overlap", "js_divergence"]
METHODS: tuple[str, ...] = get_args(Method)
JS_ALPHA = 0.002

_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, `re.findall(r"\\w+", text.lower())` as in SPARK."""
    return _WORD.findall(text.lower())


def token_overlap(src: Sequence[str], tgt: Sequence[str], *, coverage: bool = False) -> float:
    """Jaccard of the token sets, or the share of the target's tokens found in the source."""
    a, b = set(src), set(tgt)
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / len(b) if coverage else common / len(a | b)


def js_similarity(x: Sequence[str], y: Sequence[str], alpha: float = JS_ALPHA) -> float:
    """ψ = 1 − JS(P_x, P_y) over Laplace-smoothed counts on the union vocabulary (natural logs)."""
    cx, cy = Counter(x), Counter(y)
    vocab = cx.keys() | cy.keys()
    if len(vocab) < 2:
        return 0.0
    nx = len(x) + alpha * len(vocab)
    ny = len(y) + alpha * len(vocab)
    js = 0.0
    for tok in vocab:
        p = (cx.get(tok, 0) + alpha) / nx
        q = (cy.get(tok, 0) + alpha) / ny
        m = 0.5 * (p + q)
        js += 0.5 * (p * math.log(p / m) + q * math.log(q / m))
    return 1.0 - js


def similarity(method: Method, src: Sequence[str], tgt: Sequence[str], *, coverage: bool = False) -> float:
    """ψ(src, tgt) over token lists; `coverage` only changes `token_overlap` (JS is symmetric)."""
    if method == "token_overlap":
        return token_overlap(src, tgt, coverage=coverage)
    if method == "js_divergence":
        return js_similarity(src, tgt)
    raise ValueError(f"unknown PDI similarity method {method!r}; use one of {', '.join(METHODS)}")


def text_similarity(method: Method, src: str, tgt: str, *, coverage: bool = False) -> float:
    """ψ between two texts after tokenization."""
    return similarity(method, tokenize(src), tokenize(tgt), coverage=coverage)
