"""The output parser on the release's 997 real teacher outputs, edge cases and generated strings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasoningtrack.reasoning import Reasoning, parse
from reasoningtrack.reasoning.parser import (
    _TAG,
    STOP_WORDS,
    clean_answer,
    decision_is_yes,
    extract_blocks,
    format_output,
)


@pytest.fixture(scope="module")
def teacher_outputs(shared_data):
    samples = []
    for path in sorted((shared_data / "reasoningtrack-release" / "sft").glob("sft_dataset_*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            samples.append((item["output"], item["input"].replace("<image>", "")))
    return samples


def test_release_outputs_counts(teacher_outputs):
    assert len(teacher_outputs) == 997
    results = [parse(out, previous=desc) for out, desc in teacher_outputs]
    assert all(isinstance(r, Reasoning) for r in results)
    assert sum(r.strict_ok for r in results) == 996
    assert sum(r.format_ok for r in results) == 996
    decisions = [extract_blocks(out).decision for out, _ in teacher_outputs]
    # 21 thoughts quote "<d></d>" themselves: the decision must come from after </think>.
    assert sum(decision_is_yes(d) for d in decisions) == 700
    assert sum(d.strip() == "no" for d in decisions) == 297
    # The one non-strict output says yes but its <answer> is never closed: no update, old text.
    assert sum(r.update for r in results) == 699
    (bad_index,) = [i for i, r in enumerate(results) if not r.strict_ok]
    bad = results[bad_index]
    assert not bad.update and bad.answer == teacher_outputs[bad_index][1]
    assert all(r.think for r in results)
    assert all(r.answer and "<" not in r.answer for r in results)


def test_release_outputs_strict_mode(teacher_outputs):
    strict = [parse(out, strict=True, previous=desc) for out, desc in teacher_outputs]
    lenient = [parse(out, previous=desc) for out, desc in teacher_outputs]
    for s, l in zip(strict, lenient):
        if s.strict_ok:
            assert s == l
        else:
            assert not s.update and s.answer == l.answer


def test_thought_quoting_tags_is_ignored():
    text = (
        "<think>I should put yes within <d></d> and the text in <answer>x</answer>.</think>"
        "<d>no</d><answer>a red car</answer>"
    )
    r = parse(text, previous="old")
    assert r.strict_ok and r.format_ok
    assert not r.update and r.answer == "a red car"
    assert "<answer>x</answer>" in r.think


@pytest.mark.parametrize(
    "text, update, answer, format_ok, strict_ok",
    [
        ("<think>t</think><d>yes</d><answer>a red car</answer>", True, "a red car", True, True),
        ("  <think> t </think>\n<d> yes </d>\n\n<answer>  a red\n car </answer>\n", True, "a red car", True, True),
        ("<THINK>t</THINK><D>Yes</D><ANSWER>a red car</ANSWER>", True, "a red car", True, False),
        ("< think >t</ think ><d >YES.</d><answer>a red car</answer >", True, "a red car", True, False),
        ("<think>t</think><d>yes</d><answer>a red car", False, "old", False, False),  # truncated
        ("<think>t</think><d>yes</d>", False, "old", False, False),  # missing answer
        ("<think>t</think><d>maybe</d><answer>a red car</answer>", False, "a red car", True, False),
        ("<think>t</think><answer>a red car</answer>", False, "a red car", False, False),  # no d
        ("<think>t</think><d>yes</d><answer></answer>", False, "old", True, True),  # empty
        ("<think>t</think><d>yes</d><answer>the same</answer>", False, "old", True, True),  # stop words
        ("<think>t</think><d>yes</d><answer>N/A</answer>", False, "old", True, True),
        ('<think>t</think><d>yes</d><answer>"a red car"</answer>', True, "a red car", True, True),
        ("<think>t</think><d>yes</d><answer>a car</answer><answer>b car</answer>", True, "a car", True, False),
        ("<think>t</think><d>yes</d><answer>car one</answer><d>no</d>", True, "car one", True, False),
        ("intro <think>t</think><d>no</d><answer>a car</answer> outro", False, "a car", True, False),
        ("<think>t</think>note<d>no</d><answer>a car</answer>", False, "a car", True, False),
        ("<answer>a car</answer><d>yes</d><think>t</think>", False, "old", True, False),
        ("t</think><d>yes</d><answer>a car</answer>", True, "a car", False, False),  # lone </think>
        ("<think>forgot to close <d>yes</d><answer>a car</answer>", True, "a car", False, False),
        ("<think>truncated thought that never", False, "old", False, False),
        ("just some text", False, "old", False, False),
        ("", False, "old", False, False),
        ("<think>t</think><d>yes</d><answer>a <d>red</d> car</answer>", True, "a red car", True, True),
    ],
)
def test_rules(text, update, answer, format_ok, strict_ok):
    r = parse(text, previous="old")
    assert (r.update, r.answer, r.format_ok, r.strict_ok) == (update, answer, format_ok, strict_ok)
    assert r.raw == text


def test_think_content():
    assert parse("<think> a b </think><d>no</d><answer>x car</answer>").think == "a b"
    assert parse("t1</think><d>no</d>").think == "t1"
    assert parse("<think>forgot <d>no</d> then <d>yes</d><answer>c</answer>").think == "forgot <d>no</d> then"


def test_unclosed_decision_reads_to_next_tag():
    assert parse("<think>t</think><d>yes<answer>a car</answer>").update


def test_max_words_cuts_answer():
    text = format_output("t", True, "one two three four five six")
    assert parse(text, max_words=4).answer == "one two three four"
    assert parse(text).answer == "one two three four five six"
    assert parse(text, max_words=0).answer == "one two three four five six"


def test_strict_mode_rejects_non_strict():
    text = "<THINK>t</THINK><D>yes</D><ANSWER>a red car</ANSWER>"
    r = parse(text, strict=True, previous="old")
    assert not r.update and r.answer == "old" and r.think == "t" and not r.strict_ok


def test_non_string_inputs_never_raise():
    assert parse(None).answer == ""
    assert parse(b"<think>x</think>", previous=None).raw.startswith("b'")  # type: ignore[arg-type]
    assert parse(12345).update is False  # type: ignore[arg-type]


def test_helpers():
    assert decision_is_yes(" 'Yes'. ") and not decision_is_yes("yes please") and not decision_is_yes(None)
    assert clean_answer("\u201ca  b\u201d") == "a b"
    assert clean_answer("'\"x\"'") == "x"
    assert "the" in STOP_WORDS and "car" not in STOP_WORDS


_PIECE_LIST = (
    ["<think>", "</think>", "<d>", "</d>", "<answer>", "</answer>", "< D >", "</ANSWER>", "<Think >",
     "yes", "no", "Yes.", " ", "\n", "car", "the", "n/a", '"', "\u201c", "<", ">", "/", "think", "d",
     "a red car", "\u00e9l\u00e9phant", "\t", "\x00", "\ud83d\ude97", "</d", "<answer", "think>"]
)
_SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<>"), max_size=40
)


def _soup(data: bytes) -> str:
    """Each byte picks a piece: bytes are hypothesis's cheapest draw (10,000 examples stay fast)."""
    return "".join(_PIECE_LIST[b % len(_PIECE_LIST)] for b in data)


@settings(max_examples=10000, deadline=None)
@given(st.binary(max_size=16).map(_soup))
def test_never_raises(text):
    """10,000 tag soups: always a Reasoning, flags consistent, an update always has a clean answer."""
    r = parse(text, strict=len(text) % 2 == 0, previous="old")
    assert isinstance(r, Reasoning) and r.raw == text
    assert r.strict_ok <= r.format_ok
    if r.update:
        assert r.answer.strip() and _TAG.search(r.answer) is None
    if len(text) % 2 == 0 and not r.strict_ok:
        assert not r.update and r.answer == "old"


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=80), st.text(max_size=20))
def test_any_unicode_never_raises(text, previous):
    r = parse(text, previous=previous, max_words=3)
    assert r.raw == text
    if "<" not in text:  # no tag at all: nothing to use, the old text stays
        assert not r.update and r.answer == previous and r.think == ""
    if r.update:
        assert 0 < len(r.answer.split()) <= 3


def test_arbitrary_objects_never_raise():
    for value in (None, 0, 1.5, ["<think>"], {"a": 1}, "\ud800", "<" * 10000, "<think>" * 5000):
        assert isinstance(parse(value), Reasoning)  # type: ignore[arg-type]


_WORDS = st.lists(
    st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=8),
    min_size=1,
    max_size=10,
)


@settings(max_examples=1000, deadline=None)
@given(_SAFE_TEXT, st.booleans(), _WORDS)
def test_round_trip(think, update, words):
    answer = " ".join(words)
    r = parse(format_output(think, update, answer), previous="old")
    assert r.strict_ok and r.format_ok
    assert r.think == think.strip()
    if any(w.lower() not in STOP_WORDS for w in words):
        assert r.answer == answer and r.update == update
    else:
        assert r.answer == "old" and not r.update
