"""Similarity ψ against values worked out by hand."""

import math

import pytest

from skillspark.pdi.text import (
    js_similarity,
    similarity,
    text_similarity,
    token_overlap,
    tokenize,
)


def test_tokenize_lowercases_and_keeps_word_characters():
    assert tokenize("Run `pytest -q` on Foo_Bar.py, 42x!") == ["run", "pytest", "q", "on", "foo_bar", "py", "42x"]


def test_jaccard_and_coverage():
    src, tgt = ["a", "b", "b"], ["b", "c", "d", "e"]
    # sets {a,b} and {b,c,d,e}: one common token, five in the union, four in the target
    assert token_overlap(src, tgt) == pytest.approx(1 / 5)
    assert token_overlap(src, tgt, coverage=True) == pytest.approx(1 / 4)
    # coverage is directed: the other way round it is 1 of src's 2 tokens
    assert token_overlap(tgt, src, coverage=True) == pytest.approx(1 / 2)


def test_overlap_is_zero_with_an_empty_side():
    assert token_overlap([], ["a"]) == 0.0
    assert token_overlap(["a"], [], coverage=True) == 0.0
    assert token_overlap([], []) == 0.0


def test_js_two_disjoint_single_tokens():
    # x = [a], y = [b], vocabulary {a, b}, alpha = 0.002:
    # P = (1.002, 0.002)/1.004 = (0.998008, 0.001992), Q = (0.001992, 0.998008), M = (0.5, 0.5)
    # JS = ½KL(P‖M) + ½KL(Q‖M) = KL(P‖M) (symmetry) = 0.998008·ln(1.996016) + 0.001992·ln(0.003984)
    #    = 0.998008·0.691154 + 0.001992·(−5.525462) = 0.689777 − 0.011007 = 0.678770
    # ψ = 1 − 0.678770 = 0.321230
    assert js_similarity(["a"], ["b"]) == pytest.approx(0.321230, abs=2e-6)


def test_js_partial_overlap():
    # x = [a, a, b], y = [a, b, b]; vocabulary {a, b}; n = 3 + 2·0.002 = 3.004
    # P = (2.002, 1.002)/3.004 = (0.666445, 0.333555); Q = (0.333555, 0.666445); M = (0.5, 0.5)
    # JS = KL(P‖M) = 0.666445·ln(1.332889) + 0.333555·ln(0.667111) = 0.666445·0.287349 − 0.333555·0.404799
    #    = 0.191502 − 0.135023 = 0.056479;  ψ = 0.943521
    assert js_similarity(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(0.943521, abs=2e-6)


def test_js_identical_is_one_and_natural_log_bounds():
    assert js_similarity(["a", "b", "b"], ["b", "a", "b"]) == pytest.approx(1.0)
    # far apart distributions approach 1 − ln 2 (natural logs), never below it
    far = js_similarity(["a"] * 1000, ["b"] * 1000)
    assert 1 - math.log(2) < far < 1 - math.log(2) + 1e-3


def test_js_vocabulary_below_two_gives_zero_and_an_empty_side_is_uniform():
    assert js_similarity(["a", "a"], ["a"]) == 0.0  # vocabulary {a}: one token
    assert js_similarity([], []) == 0.0
    # [] vs [a, b]: P = (α, α)/2α = (½, ½), Q = (1.002, 1.002)/2.004 = (½, ½): JS = 0, ψ = 1
    assert js_similarity([], ["a", "b"]) == pytest.approx(1.0)
    # [] vs [a, a, b]: P = (½, ½), Q = (2.002, 1.002)/3.004 = (0.666445, 0.333555), M = (0.583222, 0.416778)
    # KL(P‖M) = ½·ln(0.5/0.583222) + ½·ln(0.5/0.416778) = ½·(−0.153960) + ½·0.182047 = 0.014044
    # KL(Q‖M) = 0.666445·ln(1.142697) + 0.333555·ln(0.800319) = 0.666445·0.133391 − 0.333555·0.222745
    #         = 0.088898 − 0.074298 = 0.014600;  JS = ½(0.014044 + 0.014600) = 0.014322;  ψ = 0.985678
    assert js_similarity(["a", "b", "a"], []) == pytest.approx(0.985678, abs=3e-6)


def test_similarity_dispatch_and_text_helper():
    assert text_similarity("token_overlap", "A b", "b C") == pytest.approx(1 / 3)
    assert text_similarity("js_divergence", "a", "b") == pytest.approx(js_similarity(["a"], ["b"]))
    # JS ignores `coverage` (it is symmetric)
    assert similarity("js_divergence", ["a"], ["b"], coverage=True) == similarity("js_divergence", ["b"], ["a"])
    with pytest.raises(ValueError, match="unknown PDI similarity method"):
        similarity("cosine", ["a"], ["b"])  # type: ignore[arg-type]
