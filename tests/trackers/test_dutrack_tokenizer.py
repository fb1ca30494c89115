"""The DUTrack tokenizer: the official 16-id window for uncased and cased BERT vocabularies."""

from __future__ import annotations

import json

import pytest

from reasoningtrack.trackers.base import BackboneError
from reasoningtrack.trackers.dutrack.tokenizer import TextTokenizer


@pytest.fixture(scope="module")
def cases(ref):
    return json.loads((ref / "tokenizer_cases.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("variant,vocab,lowercase", [
    ("uncased", "vocab-bert-base-uncased.txt", True),
    ("cased", "vocab-bert-base-cased.txt", False),
])
def test_official_token_ids(ref, cases, variant, vocab, lowercase):
    tokenizer = TextTokenizer.from_options(ref / vocab, lowercase)
    assert len(cases) >= 7
    for case in cases:
        assert tokenizer.ids(case["text"]) == case[f"{variant}_ids"], case["text"]
        assert tokenizer.tokens(case["text"]) == case[f"{variant}_tokens"], case["text"]


def test_case_is_inferred_from_the_vocab_file(ref, cases):
    cased = TextTokenizer.from_options(ref / "vocab-bert-base-cased.txt")
    uncased = TextTokenizer.from_options(ref / "vocab-bert-base-uncased.txt")
    zebra = cases[1]
    assert cased.ids(zebra["text"]) == zebra["cased_ids"]
    assert uncased.ids(zebra["text"]) == zebra["uncased_ids"]


def test_kept_text_is_what_the_window_keeps(ref):
    tokenizer = TextTokenizer.from_options(ref / "vocab-bert-base-uncased.txt", True)
    long_text = ("a person wearing a black jacket and blue jeans walking along the crowded street "
                 "next to a parked white van")
    assert tokenizer.kept_text(long_text) == (
        "a person wearing a black jacket and blue jeans walking along the crowded street")
    assert tokenizer.kept_text("A Red CAR") == "a red car"
    assert tokenizer.kept_text(None) == "" == tokenizer.kept_text("")
    assert tokenizer.ids(None) == [101, 102] + [0] * 14


def test_bad_vocab_sources_give_clear_errors(tmp_path):
    with pytest.raises(BackboneError, match="does not exist"):
        TextTokenizer.from_options(tmp_path / "nope.txt")
    not_bert = tmp_path / "words.txt"
    not_bert.write_text("hello\nworld\n")
    with pytest.raises(BackboneError, match=r"\[PAD\] is missing"):
        TextTokenizer.from_options(not_bert)
    dup = tmp_path / "dup.txt"
    dup.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nword\nword\n")
    with pytest.raises(BackboneError, match="dup.txt:6"):
        TextTokenizer.from_options(dup)


def test_offline_hub_failure_explains_how_to_pass_a_vocab(monkeypatch, tmp_path):
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(BackboneError, match="vocab=/path/to/vocab-bert-base-uncased.txt"):
        TextTokenizer.from_options(None)
