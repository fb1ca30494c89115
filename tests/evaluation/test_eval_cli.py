"""`reasoningtrack evaluate` in the exact form automated checks use, the report formats, plots."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.datasets import DATASETS
from reasoningtrack.evaluation import evaluate_trackers

SUBSET = ["airplane-1", "bird-2", "tiger-6", "zebra-10", "microphone-6"]
runner = CliRunner()


@pytest.fixture()
def small_lasot(tmp_path, lasot_annos, lasot_raw) -> tuple[Path, dict[str, Path]]:
    """A toolkit ``annos/`` with five real sequences (two with bad GT rows) and two trackers'
    results folders holding ``<seq>.txt``; attributes rewritten to IV and POC only."""
    annos = tmp_path / "annos"
    for sub in ("", "absent", "nlp", "att"):
        (annos / sub).mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(SUBSET):
        for sub in ("", "absent", "nlp"):
            shutil.copy(lasot_annos / sub / f"{name}.txt", annos / sub / f"{name}.txt")
        flags = ["0"] * 14
        flags[i % 2] = "1"
        (annos / "att" / f"{name}.txt").write_text(",".join(flags))
    results = {}
    for tracker in ("ATOM", "DiMP50"):
        folder = tmp_path / "results" / tracker
        folder.mkdir(parents=True)
        for name in SUBSET:
            shutil.copy(lasot_raw / tracker / f"{name}.txt", folder / f"{name}.txt")
        results[tracker] = folder
    return annos, results


def _run(args: list[str]):
    result = runner.invoke(app, args)
    return result


def test_exact_cli_form_writes_the_json_report(small_lasot, tmp_path):
    annos, results = small_lasot
    out = tmp_path / "report.json"
    r = _run(["evaluate", "--dataset", "lasot", "--root", str(annos), "--results", f"ATOM={results['ATOM']}",
              "--results", f"DiMP50={results['DiMP50']}", "--json", str(out)])
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    assert set(report) == {"benchmark", "protocol", "trackers", "skipped", "notes"}
    assert report["skipped"] == {} and report["notes"] == []
    assert report["benchmark"] == "lasot" and report["protocol"] == "lasot-matlab"
    assert set(report["trackers"]) == {"ATOM", "DiMP50"}
    atom = report["trackers"]["ATOM"]
    assert set(atom) == {"overall", "per_sequence", "per_attribute", "rejected", "adjusted"}
    assert set(atom["overall"]) == {"PR", "NPR", "SR"}
    assert set(atom["per_sequence"]) == set(SUBSET)
    assert set(atom["per_attribute"]) == {"IV", "POC"}
    assert atom["per_attribute"]["IV"]["n_sequences"] == 3 and atom["per_attribute"]["POC"]["n_sequences"] == 2
    # the same numbers as the Python API on the same data
    api = evaluate_trackers(DATASETS.build("lasot", root=annos), results)
    assert atom["overall"]["SR"] == pytest.approx(api.trackers["ATOM"].overall.SR, abs=0)
    assert atom["per_sequence"]["tiger-6"]["PR"] == pytest.approx(api.trackers["ATOM"].per_sequence["tiger-6"].PR, abs=0)
    # the table on stdout
    assert "DiMP50" in r.output and "SR (AUC)" in r.output and "lasot-matlab" in r.output


def test_cli_root_may_be_the_folder_holding_annos_and_protocol_can_be_overridden(small_lasot, tmp_path):
    annos, results = small_lasot
    out = tmp_path / "p.json"
    r = _run(["evaluate", "--dataset", "lasot", "--root", str(annos.parent), "--results", f"ATOM={results['ATOM']}",
              "--protocol", "pytracking", "--json", str(out), "--csv", str(tmp_path / "p.csv")])
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    assert report["protocol"] == "pytracking"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "p.csv").read_text())))
    assert rows[0]["scope"] == "overall" and rows[0]["tracker"] == "ATOM"
    assert {r["scope"] for r in rows} == {"overall", "attribute", "sequence"}
    assert float(rows[0]["SR"]) == report["trackers"]["ATOM"]["overall"]["SR"]


def test_missing_sequence_is_an_error_unless_skipped(small_lasot, tmp_path):
    annos, results = small_lasot
    (results["DiMP50"] / "bird-2.txt").unlink()
    args = ["evaluate", "--dataset", "lasot", "--root", str(annos), "--results", f"ATOM={results['ATOM']}",
            "--results", f"DiMP50={results['DiMP50']}", "--json", str(tmp_path / "r.json")]
    r = _run(args)
    assert r.exit_code == 2
    assert "DiMP50: 1 of 5 sequences have no result file (e.g. bird-2)" in r.output
    assert not (tmp_path / "r.json").exists()
    r = _run(args + ["--skip-missing"])
    assert r.exit_code == 0, r.output
    assert "skipped 1 sequence" in r.output and "bird-2 (DiMP50)" in r.output
    report = json.loads((tmp_path / "r.json").read_text())
    for tracker in ("ATOM", "DiMP50"):  # dropped for every tracker: same sequences compared
        assert set(report["trackers"][tracker]["per_sequence"]) == set(SUBSET) - {"bird-2"}


def test_cli_reports_bad_input_in_one_line(small_lasot, tmp_path):
    annos, results = small_lasot
    r = _run(["evaluate", "--dataset", "lasot", "--root", str(annos), "--results", "ATOM"])
    assert r.exit_code == 2 and "expected NAME=DIR" in r.output
    r = _run(["evaluate", "--dataset", "lasot", "--root", str(annos), "--results", f"A={results['ATOM']}", "--protocol", "nope"])
    assert r.exit_code == 2 and "unknown protocol 'nope'" in r.output
    (results["ATOM"] / "zebra-10.txt").write_text("1,2,3,4\n1,2,3\n")
    r = _run(["evaluate", "--dataset", "lasot", "--root", str(annos), "--results", f"A={results['ATOM']}"])
    assert r.exit_code == 2 and "zebra-10.txt:2" in r.output


def test_cli_plots_png_and_pdf_with_scores_in_legend(small_lasot, tmp_path):
    annos, results = small_lasot
    plots = tmp_path / "plots"
    r = _run(["evaluate", "--dataset", "lasot", "--root", str(annos), "--results", f"ATOM={results['ATOM']}",
              "--results", f"DiMP50={results['DiMP50']}", "--plots", str(plots)])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in plots.iterdir())
    for stem in ("success", "precision", "norm_precision", "attribute_IV", "attribute_POC"):
        assert f"{stem}.png" in names and f"{stem}.pdf" in names
    assert len(names) == 10
    assert (plots / "success.png").read_bytes()[:4] == b"\x89PNG"
    assert (plots / "success.pdf").read_bytes()[:4] == b"%PDF"


def test_legend_label_format():
    from reasoningtrack.evaluation.plots import legend_label

    assert legend_label("DiMP50", 57.08) == "DiMP50 [0.571]"


def test_full_lasot_run_through_the_cli(lasot_annos, lasot_raw, tmp_path):
    out = tmp_path / "full.json"
    r = _run(["evaluate", "--dataset", "lasot", "--root", str(lasot_annos), "--results", f"ATOM={lasot_raw / 'ATOM'}",
              "--results", f"DiMP50={lasot_raw / 'DiMP50'}", "--json", str(out)])
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    atom, dimp = report["trackers"]["ATOM"]["overall"], report["trackers"]["DiMP50"]["overall"]
    assert (round(atom["SR"], 2), round(atom["PR"], 2), round(atom["NPR"], 2)) == (51.43, 50.54, 57.68)
    assert (round(dimp["SR"], 2), round(dimp["PR"], 2), round(dimp["NPR"], 2)) == (57.08, 56.90, 65.18)
    assert len(report["trackers"]["ATOM"]["per_sequence"]) == 280
    assert len(report["trackers"]["ATOM"]["per_attribute"]) == 14


def test_api_accepts_in_memory_boxes_and_sequences(lasot_sequences):
    seqs = lasot_sequences[:4]
    boxes = {s.name: s.ground_truth.copy() for s in seqs}
    report = evaluate_trackers(seqs, {"oracle": boxes}, "lasot-matlab")
    assert report.benchmark == "lasot" and report.sequences == [s.name for s in seqs]
    per_seq = report.trackers["oracle"].per_sequence
    assert all(np.isfinite(v.SR) for v in per_seq.values())
    assert report.to_dict()["trackers"]["oracle"]["overall"]["SR"] == report.trackers["oracle"].overall.SR


def test_batched_parser_equals_the_tolerant_reader(tmp_path, lasot_raw):
    from reasoningtrack.evaluation.evaluate import load_results
    from reasoningtrack.evaluation.results import parse_plain_boxes, read_boxes

    files = {
        "plain": "1,2,3,4\n5.5,6.25,7,8\n",
        "long-floats": "367.0763161678982,101.76213141700188,42.098725696430115,15.897959303447395\n",
        "crlf-no-final-newline": "1,2,3,4\r\n5,6,7,8",
        "tabs": "1\t2\t3\t4\n5\t6\t7\t8\n",
        "nan": "nan,nan,nan,nan\n1,2,3,4\n",
        "trailing-blank": "1,2,3,4\n\n",
        "Lower": "9,9,9,9\n",
    }
    folder = tmp_path / "res"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name.lower() if name == 'Lower' else name}.txt").write_bytes(text.encode())
    boxes, missing = load_results(folder, list(files) + ["absent-seq"])
    assert missing == ["absent-seq"]
    for name in files:
        path = folder / f"{name.lower() if name == 'Lower' else name}.txt"
        assert np.array_equal(boxes[name], read_boxes(path), equal_nan=True), name
    # real files: identical to the line-by-line reader, bit for bit
    blobs = [(lasot_raw / "SiamRPN++" / f"{n}.txt").read_bytes() for n in ("airplane-1", "zebra-10")]
    for blob, parsed in zip(blobs, parse_plain_boxes(blobs)):
        rows = [[float(v) for v in line.split(",")] for line in blob.decode().splitlines() if line]
        assert parsed.tolist() == rows
    # malformed rows are never silently accepted
    for bad in (b"1,2,3,4\n1,2,3\n", b"1,,3,4\n", b"1,2,3,4,5\n1,2,3\n", b"1,2,3,4\n\n5,6,7,8\n"):
        assert parse_plain_boxes([b"1,2,3,4\n", bad])[1] is None


def test_cli_dataset_root_with_toolkit_annotations(tmp_path, small_lasot):
    """--root a dataset download, --annos the toolkit folder: GT, flags and attributes from the latter."""
    annos, results = small_lasot
    root = tmp_path / "LaSOT"
    for name in SUBSET:
        seq = root / name.rsplit("-", 1)[0] / name
        seq.mkdir(parents=True)
        n = len((annos / f"{name}.txt").read_text().splitlines())
        (seq / "groundtruth.txt").write_text("1,1,5,5\n" * n)  # deliberately different from the toolkit's
        (seq / "full_occlusion.txt").write_text(",".join(["0"] * n))
        (seq / "out_of_view.txt").write_text(",".join(["0"] * n))
        (seq / "nlp.txt").write_text("x")
    out = tmp_path / "r.json"
    args = ["evaluate", "--dataset", "lasot", "--root", str(root), "--results", f"ATOM={results['ATOM']}", "--json", str(out)]
    assert _run(args + ["--annos", str(annos)]).exit_code == 0
    with_annos = json.loads(out.read_text())["trackers"]["ATOM"]
    direct = evaluate_trackers(DATASETS.build("lasot", root=annos), {"ATOM": results["ATOM"]}).trackers["ATOM"]
    assert with_annos["overall"]["SR"] == direct.overall.SR
    assert set(with_annos["per_attribute"]) == {"IV", "POC"}
    r = _run(["evaluate", "--dataset", "otb-lang", "--root", str(root), "--results", f"A={results['ATOM']}", "--annos", str(annos)])
    assert r.exit_code == 2 and "--annos is not supported" in r.output


def test_rejected_sequences_are_reported_not_averaged(lasot_dataset):
    seqs = lasot_dataset.select(["tiger-6", "airplane-1", "lion-5"])
    oracle = {s.name: s.ground_truth for s in seqs}  # tiger-6 and lion-5 hold negative GT sizes
    report = evaluate_trackers(seqs, {"oracle": oracle}, "pytracking")
    t = report.trackers["oracle"]
    assert sorted(t.rejected) == ["lion-5", "tiger-6"] and list(t.per_sequence) == ["airplane-1"]
    assert t.overall.n_sequences == 1
    notes = report.notes()
    assert len(notes) == 1 and "2 sequence(s) not scored under pytracking" in notes[0]  # nothing else adjusted
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(report.table())
    console.print(report.attribute_table("NPR"))
    text = console.export_text()
    assert "oracle" in text and "PR@20px" in text and "NPR per attribute" in text
    # the MATLAB protocol scores them (bad GT rows count as -1)
    assert evaluate_trackers(seqs, {"oracle": oracle}).trackers["oracle"].rejected == {}


def test_parser_without_pandas_is_as_strict(monkeypatch, lasot_raw):
    from reasoningtrack import boxfiles as ev

    blobs = [(lasot_raw / "ATOM" / f"{n}.txt").read_bytes() for n in ("airplane-1", "bird-2")]
    with_pandas = ev.parse_plain_boxes(blobs)
    monkeypatch.setattr(ev, "_pandas", lambda: None)
    without = ev.parse_plain_boxes(blobs)
    for a, b in zip(with_pandas, without):
        assert np.array_equal(a, b)
    for bad in (b"1,2,3,4,5\n6,7,8\n", b"1,,3,4\n", b"1,2,3,4\n\n5,6,7,8\n", b"a,b,c,d\n"):
        assert ev.parse_plain_boxes([bad])[0] is None
