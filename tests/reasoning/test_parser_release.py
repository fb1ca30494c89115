"""The release's parser (``parse_release``) against a transcription of Evaluation/i2d.py written
here, on the 997 real teacher outputs and on perturbed copies of them (issue 9, rule 2)."""

from __future__ import annotations

import json
import re

import pytest

from reasoningtrack.reasoning.parser import parse, parse_release


def i2d_text(output: str, initial: str) -> tuple[bool, str]:
    """i2d.py in words: first <d>…</d> and <answer>…</answer> anywhere (dotall, case-sensitive),
    stripped, defaults "no" / "tracking the object"; the answer only for d == "yes" and an answer
    other than the default, the initial description otherwise."""
    d = re.search(r"<d>(.*?)</d>", output, re.DOTALL)
    a = re.search(r"<answer>(.*?)</answer>", output, re.DOTALL)
    d = d.group(1).strip() if d else "no"
    a = a.group(1).strip() if a else "tracking the object"
    used = d == "yes" and a != "tracking the object"
    return used, (a if used else initial)


def perturbations(output: str) -> list[str]:
    return [
        "Sure! " + output,  # preamble
        output + "\nHope this helps.",  # trailing text
        output.replace("<d>", "<d> ").replace("</d>", " </d>"),  # spaces inside the d block
        output.replace("<d>yes</d>", "<d>Yes</d>").replace("<d>no</d>", "<d>No</d>"),  # upper-case d
        output.replace("</answer>", ""),  # truncated: the answer never closes
        output.replace("<answer>", "<Answer>").replace("</answer>", "</Answer>"),  # upper-case tag
        output.split("<d>")[0],  # cut before the decision
    ]


@pytest.fixture(scope="module")
def teacher_outputs(shared_data):
    samples = []
    for path in sorted((shared_data / "reasoningtrack-release" / "sft").glob("sft_dataset_*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            samples.append((item["output"], item["input"].replace("<image>", "").strip()))
    assert len(samples) == 997
    return samples


def test_release_parser_equals_the_transcription(teacher_outputs):
    cases = [(out, desc) for out, desc in teacher_outputs]
    cases += [(p, desc) for out, desc in teacher_outputs for p in perturbations(out)]
    for output, initial in cases:
        got = parse_release(output, initial)
        assert (got.update, got.answer) == i2d_text(output, initial), output
    release = [parse_release(o, d) for o, d in teacher_outputs]
    lenient = [parse(o, previous=d) for o, d in teacher_outputs]
    # the two parsers disagree on real outputs: thoughts that quote "<d>...</d>" themselves (the
    # release's first-match regex reads the quote) and the one answer that never closes
    assert sum(r.update for r in release) == 697 and sum(r.update for r in lenient) == 699
    assert sum(r.update != q.update for r, q in zip(release, lenient)) == 2
