"""The release's LLaMA-Factory alpaca JSON: lossless read/write on the 997 real samples."""

from __future__ import annotations

import json

import pytest

from reasoningtrack.training.llamafactory import (
    LlamaFactoryError,
    LlamaFactorySample,
    dumps_llamafactory,
    read_llamafactory,
    resolve_image_paths,
    write_llamafactory,
)


def test_release_files_round_trip_byte_for_byte(shared_data, tmp_path):
    total = empty = 0
    for path in sorted((shared_data / "reasoningtrack-release" / "sft").glob("*.json")):
        samples = read_llamafactory(path)
        total += len(samples)
        assert all(len(s.images) == 2 and "<image>" not in s.description for s in samples)
        empty += sum(not s.description.strip() for s in samples)
        out = write_llamafactory(samples, tmp_path / path.name)
        assert out.read_bytes() == path.read_bytes()
        again = read_llamafactory(out)
        assert [s.to_record() for s in again] == json.loads(path.read_text(encoding="utf-8"))
    assert total == 997
    assert empty == 1  # TNL2K record 125 has only its two image tokens: kept as it is


def test_image_paths_are_remapped_from_the_placeholder_root(tmp_path):
    sample = LlamaFactorySample("i", "d", "o", ["/your_root_path/OTB/s1/img1.jpg", "rel/img2.jpg"])
    assert resolve_image_paths(sample, tmp_path) == [tmp_path / "OTB/s1/img1.jpg", tmp_path / "rel/img2.jpg"]
    assert sample.input == "<image><image>d"


def test_extra_keys_survive(tmp_path):
    record = {"system": "s", "instruction": "i", "input": "<image>x", "output": "o", "images": ["a.jpg"], "history": []}
    sample = LlamaFactorySample.from_record(record)
    assert json.loads(dumps_llamafactory([sample])) == [record]


@pytest.mark.parametrize(
    "record,message",
    [
        ({"instruction": "i", "input": "x", "output": "o"}, "missing key"),
        ({"instruction": "i", "input": "<image>x", "output": "o", "images": ["a", "b"]}, "one <image> per image"),
        ({"instruction": 3, "input": "x", "output": "o", "images": []}, "'instruction' must be a string"),
    ],
)
def test_malformed_records_name_the_file_and_record(tmp_path, record, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([record]))
    with pytest.raises(LlamaFactoryError, match=message) as info:
        read_llamafactory(path)
    assert "bad.json record 0" in str(info.value)


def test_invalid_json_names_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"instruction": }\n]')
    with pytest.raises(LlamaFactoryError, match=r"broken.json:2:"):
        read_llamafactory(path)


def test_imported_release_rows_become_sft_conversations(shared_data, tmp_path):
    """Frames found under --image-root (here the real sample0001 pair) are decoded for SFT."""
    import shutil

    from reasoningtrack.training.conversations import to_sft_dataset
    from reasoningtrack.training.llamafactory import samples_to_dataset, with_images

    source = shared_data / "reasoningtrack-release" / "sft" / "sft_dataset_OTB.json"
    first = read_llamafactory(source)[:1]
    folder = tmp_path / "OTB_RLsamples" / "sample0001"
    folder.mkdir(parents=True)
    for name in ("img1.jpg", "img2.jpg"):
        shutil.copy(shared_data / "reasoningtrack-release" / "sample0001" / name, folder / name)
    sft = to_sft_dataset(with_images(samples_to_dataset(first, tmp_path, source="OTB")), "release")
    row = sft[0]
    assert [im.size for im in row["images"]] == [(640, 360), (640, 360)]
    assert row["completion"][0]["content"][0]["text"] == first[0].output
    user = row["prompt"][-1]["content"]
    assert [part["type"] for part in user].count("image") == 2
    assert first[0].description in " ".join(part.get("text") or "" for part in user)
