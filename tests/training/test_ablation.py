"""The toy ablation's plan, table and files (the training itself is exercised by the toy test)."""

from __future__ import annotations

import csv

import pytest

from reasoningtrack.config import ConfigError
from reasoningtrack.training.ablation import DEFAULT_VARIANTS, AblationConfig, _table, _write


def test_plan_has_each_reward_alone_subsets_release_and_iou_weights():
    plan = AblationConfig().plan()
    assert plan["sft"] is None and plan["release(iou=0)"] == [0.1, 0.1, 0.0, 0.15]
    alone = {name for name, w in plan.items() if w and sum(v > 0 for v in w) == 1}
    assert alone == {"format", "strict", "iou", "judge"}
    assert [plan[f"iou={w}"][2] for w in ("0.1", "0.25", "0.5", "1.0")] == [0.1, 0.25, 0.5, 1.0]
    custom = AblationConfig(variants=["sft", "mine"], custom={"mine": [0, 0, 2, 1]}).plan()
    assert custom == {"sft": None, "mine": [0.0, 0.0, 2.0, 1.0]}
    with pytest.raises(ConfigError, match="unknown variant"):
        AblationConfig(variants=["nope"])
    with pytest.raises(ConfigError, match="4 weights"):
        AblationConfig(custom={"bad": [1, 2]})
    assert set(DEFAULT_VARIANTS) <= set(AblationConfig().plan())


def test_table_means_over_seeds_and_gain_over_sft(tmp_path):
    def run(seed, variant, total, iou):
        keys = ("reward_format", "reward_strict", "reward_iou", "reward_judge", "tracking_success",
                "decision_accuracy", "answer_accuracy", "strict_rate")
        return {"seed": seed, "variant": variant, "weights": DEFAULT_VARIANTS[variant], "total_yardstick": total,
                "tracking_iou": iou, **{k: 0.5 for k in keys}}

    runs = [run(0, "sft", 1.0, 0.4), run(1, "sft", 1.2, 0.6), run(0, "iou", 1.5, 0.9), run(1, "iou", 1.3, 0.7)]
    table = _table(runs, ["sft", "iou", "judge"])
    assert [t["variant"] for t in table] == ["sft", "iou"]
    assert table[1]["total_yardstick"] == pytest.approx(1.4) and table[1]["gain_over_sft"] == pytest.approx(0.3)
    assert table[1]["tracking_iou"] == pytest.approx(0.8) and table[1]["seeds"] == 2
    _write(tmp_path, {"runs": runs})
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert [r["variant"] for r in rows] == ["sft", "iou"] and float(rows[1]["gain_over_sft"]) == pytest.approx(0.3)
    assert (tmp_path / "summary.json").is_file()
