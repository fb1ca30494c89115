"""Frame sources on real OTB frames, a video encoded here from them, and broken inputs."""

from __future__ import annotations

import shutil
import threading
import time
import warnings
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from reasoningtrack.datasets.base import Sequence
from reasoningtrack.sources import (
    ImageFolderSource,
    SequenceSource,
    SkippedFrameWarning,
    SourceError,
    VideoSource,
    open_source,
)

SEQUENCES = {"Crossing": (120, (360, 240)), "Couple": (140, (320, 240)), "Football1": (81, (352, 288))}
CODEC = "libx264" if "libx264" in av.codecs_available else "mpeg4"


def encode(path: Path, frames, codec: str = CODEC, rate: int = 30, pix_fmt: str = "yuv420p") -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def crossing(shared_data) -> Path:
    return shared_data / "sequences" / "Crossing" / "img"


@pytest.fixture(scope="module")
def crossing_video(crossing, tmp_path_factory) -> Path:
    frames = [frame for _, frame in ImageFolderSource(crossing)]
    return encode(tmp_path_factory.mktemp("video") / "crossing.mp4", frames)


def bgr_to_rgb(path: Path) -> np.ndarray:
    return cv2.imread(str(path))[:, :, ::-1]


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_image_folder_counts_order_and_rgb(shared_data, name):
    count, size = SEQUENCES[name]
    folder = shared_data / "sequences" / name / "img"
    source = open_source(folder)
    assert isinstance(source, ImageFolderSource)
    assert len(source) == source.frame_count == count
    assert source.size == size and source.fps is None
    paths = sorted(folder.glob("*.jpg"))
    seen = []
    for index, frame in source:
        seen.append(index)
        assert frame.dtype == np.uint8 and frame.shape == (size[1], size[0], 3)
        if index in (0, count // 2, count - 1):
            # OpenCV reads BGR: the source must hand out the channels reversed, pixel for pixel.
            np.testing.assert_array_equal(frame, bgr_to_rgb(paths[index]))
    assert seen == list(range(count))
    assert source.skipped == [] and 1 <= source.peak_buffered <= source.prefetch


def test_natural_sort_and_non_images_ignored(crossing, tmp_path):
    jpgs = sorted(crossing.glob("*.jpg"))
    for number, src in zip((10, 2, 1, 33), jpgs):
        shutil.copy(src, tmp_path / f"frame{number}.jpg")
    (tmp_path / "notes.txt").write_text("not a frame")
    source = ImageFolderSource(tmp_path)
    assert [p.name for p in source.paths] == ["frame1.jpg", "frame2.jpg", "frame10.jpg", "frame33.jpg"]
    frames = [f for _, f in source]
    np.testing.assert_array_equal(frames[2], bgr_to_rgb(jpgs[0]))  # frame10 is the copy of the first jpg


def test_sequence_source_matches_folder(crossing):
    paths = sorted(crossing.glob("*.jpg"))[:12]
    seq = Sequence(name="Crossing", ground_truth=np.zeros((12, 4)), frame_paths_fn=lambda: paths)
    source = open_source(seq, workers=2, prefetch=3)
    assert isinstance(source, SequenceSource) and source.name == "Crossing" and len(source) == 12
    from_seq = list(source)
    from_list = list(ImageFolderSource(paths, workers=0))
    assert [i for i, _ in from_seq] == [i for i, _ in from_list] == list(range(12))
    for (_, a), (_, b) in zip(from_seq, from_list):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(SourceError, match="no frames on disk"):
        SequenceSource(Sequence(name="empty", ground_truth=np.zeros((3, 4))))


def test_video_matches_frames_and_behaves_like_a_folder(crossing, crossing_video):
    video = open_source(crossing_video)
    folder = open_source(crossing)
    assert isinstance(video, VideoSource)
    assert len(video) == 120 and video.size == (360, 240) and video.fps == pytest.approx(30.0)
    pairs = list(zip(video, folder))
    assert len(pairs) == 120
    for (vi, vf), (fi, ff) in pairs:
        assert vi == fi and vf.dtype == ff.dtype == np.uint8 and vf.shape == ff.shape
    # Lossy round trip through the encoder: close, but not exact.
    errors = [np.abs(vf.astype(int) - ff.astype(int)).mean() for (_, vf), (_, ff) in pairs[::20]]
    assert max(errors) < 8, errors
    # Iterating again starts from the first frame.
    assert next(iter(video))[0] == 0


def test_video_channel_order_is_rgb(tmp_path):
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 230
    blue = np.zeros((64, 64, 3), np.uint8)
    blue[..., 2] = 230
    path = encode(tmp_path / "colours.mp4", [red] * 3 + [blue] * 3)
    frames = [f for _, f in VideoSource(path)]
    assert len(frames) == 6
    assert frames[0][..., 0].mean() > 180 and frames[0][..., 2].mean() < 50
    assert frames[-1][..., 2].mean() > 180 and frames[-1][..., 0].mean() < 50


@pytest.fixture()
def broken_folder(crossing, tmp_path) -> Path:
    for src in sorted(crossing.glob("*.jpg"))[:10]:
        shutil.copy(src, tmp_path / src.name)
    truncated = tmp_path / "0004.jpg"
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    (tmp_path / "0008.jpg").write_text("this is a text file, not a JPEG\n")
    return tmp_path


@pytest.mark.parametrize("workers", [0, 3])
def test_corrupt_frame_error_names_the_file(broken_folder, workers):
    source = ImageFolderSource(broken_folder, workers=workers)
    with pytest.raises(SourceError, match=r"0004\.jpg") as info:
        for _ in source:
            pass
    assert info.value.index == 3 and info.value.path.name == "0004.jpg"
    assert "truncated, corrupt or not an image" in str(info.value)


@pytest.mark.parametrize("workers", [0, 3])
def test_skip_corrupt_reports_every_skipped_frame(broken_folder, workers):
    source = ImageFolderSource(broken_folder, workers=workers, skip_corrupt=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        indices = [i for i, _ in source]
    assert indices == [0, 1, 2, 4, 5, 6, 8, 9]
    assert [i for i, _ in source.skipped] == [3, 7]
    assert "0004.jpg" in source.skipped[0][1] and "0008.jpg" in source.skipped[1][1]
    messages = [str(w.message) for w in caught if issubclass(w.category, SkippedFrameWarning)]
    assert len(messages) == 2 and "0008.jpg" in messages[1]


def test_unreadable_inputs_give_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"empty.*holds no images"):
        open_source(tmp_path / "empty")
    with pytest.raises(SourceError, match="does not exist"):
        open_source(tmp_path / "missing.mp4")
    fake = tmp_path / "clip.mp4"
    fake.write_text("not a video")
    with pytest.raises(SourceError, match=r"clip\.mp4"):
        open_source(fake)
    odd = tmp_path / "clip.xyz"
    odd.write_text("not a video either")
    with pytest.raises(SourceError, match=r"clip\.xyz.*not an image folder"):
        open_source(odd)
    with pytest.raises(SourceError, match="unknown option"):
        open_source(tmp_path, prefech=2)


def test_corrupt_video_frame_raises_or_is_skipped(crossing, tmp_path):
    frames = [f for _, f in ImageFolderSource(sorted(crossing.glob("*.jpg"))[:20])]
    path = encode(tmp_path / "clip.avi", frames, codec="mjpeg", pix_fmt="yuvj420p")
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size]
    data = bytearray(path.read_bytes())
    pos, size = packets[6]
    data[pos : pos + size] = bytes(size)  # frame 6's JPEG replaced by zeros
    path.write_bytes(bytes(data))

    with pytest.raises(SourceError, match=r"clip\.avi: cannot decode frame 6") as info:
        list(VideoSource(path))
    assert info.value.index == 6
    source = VideoSource(path, skip_corrupt=True)
    with pytest.warns(SkippedFrameWarning, match="frame 6"):
        indices = [i for i, _ in source]
    assert indices == [i for i in range(20) if i != 6]
    assert [i for i, _ in source.skipped] == [6]


def test_image_prefetch_stays_bounded(crossing):
    source = ImageFolderSource(crossing, prefetch=3, workers=2)
    for consumed, (_, _) in enumerate(source, start=1):
        time.sleep(0.002)  # a consumer slower than the decoders
        assert source.frames_decoded <= consumed + source.prefetch
    assert source.peak_buffered == 3 and source.frames_decoded == 120


def test_video_prefetch_stays_bounded_and_reader_stops(crossing_video):
    source = VideoSource(crossing_video, prefetch=2)
    frames = iter(source)
    for consumed in range(1, 31):
        next(frames)
        time.sleep(0.003)
        # queued (<= prefetch) + one frame in the reader's hand waiting for room
        assert source.frames_decoded <= consumed + source.prefetch + 1
    assert 1 <= source.peak_buffered <= 2
    frames.close()  # a consumer that stops early must not leave the reader thread behind
    assert not any(t.name == "rt-video-reader" and t.is_alive() for t in threading.enumerate())


def test_png_bmp_gray_and_alpha_become_rgb(tmp_path):
    cv2.imwrite(str(tmp_path / "1.png"), np.full((5, 6), 77, np.uint8))  # grayscale
    bgra = np.zeros((5, 6, 4), np.uint8)
    bgra[..., 2], bgra[..., 3] = 200, 255  # red with an alpha channel
    cv2.imwrite(str(tmp_path / "2.png"), bgra)
    bgr = np.zeros((5, 6, 3), np.uint8)
    bgr[..., 0] = 200  # blue
    cv2.imwrite(str(tmp_path / "3.bmp"), bgr)
    frames = [f for _, f in open_source(tmp_path)]
    assert [f.shape for f in frames] == [(5, 6, 3)] * 3
    assert [f[0, 0].tolist() for f in frames] == [[77, 77, 77], [200, 0, 0], [0, 0, 200]]


def test_truncated_video_is_reported_never_silently_short(crossing, tmp_path):
    frames = [f for _, f in ImageFolderSource(sorted(crossing.glob("*.jpg"))[:40])]
    path = tmp_path / "faststart.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:  # index first
        stream = container.add_stream(CODEC, rate=30)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # the index still says 40 frames

    source = VideoSource(path)
    assert source.frame_count == 40
    with pytest.raises(SourceError, match=r"faststart\.mp4: video ended after \d+ of 40 frames") as info:
        list(source)
    decoded = info.value.index
    assert 0 < decoded < 40
    skipping = VideoSource(path, skip_corrupt=True)
    with pytest.warns(SkippedFrameWarning, match="ended after"):
        assert len(list(skipping)) == decoded
    assert [i for i, _ in skipping.skipped] == list(range(decoded, 40))


def test_unknown_frame_count_and_early_stop(crossing, tmp_path):
    frames = [f for _, f in ImageFolderSource(sorted(crossing.glob("*.jpg"))[:10])]
    video = open_source(encode(tmp_path / "clip.mkv", frames))  # Matroska stores no frame count
    assert video.frame_count is None and video.fps == pytest.approx(30.0)
    with pytest.raises(TypeError, match="not known"):
        len(video)
    assert len(list(video)) == 10  # list() copes with the unknown length

    source = ImageFolderSource(crossing, workers=3, prefetch=4)
    stream = iter(source)
    for _ in range(5):
        next(stream)
    stream.close()  # an abandoned pass stops its decoder threads
    assert not any(t.name.startswith("rt-frames") and t.is_alive() for t in threading.enumerate())
    assert source.frames_decoded <= 5 + source.prefetch


def test_in_memory_sequence_is_read_through_read_frame():
    from reasoningtrack.datasets.synthetic import WorldConfig, generate_sequence

    generated = generate_sequence(seed=3, index=1, config=WorldConfig(frames=20))
    source = open_source(generated.to_sequence(), workers=2)
    assert isinstance(source, SequenceSource) and len(source) == 20 and source.size == (320, 240)
    pairs = list(source)
    assert [i for i, _ in pairs] == list(range(20))
    for (_, frame), expected in zip(pairs, generated.frames):
        np.testing.assert_array_equal(frame, expected)


@pytest.mark.skipif(CODEC != "libx264", reason="concealment is checked on an H.264 stream (PyAV without libx264)")
def test_concealed_video_damage_is_counted_warned_and_strict_is_an_error(crossing_video, tmp_path):
    """200 zero bytes in the middle of an H.264 MP4: FFmpeg decodes every frame (it conceals the
    broken macroblocks), so only its error reports and corrupt flags reveal the damage."""
    from reasoningtrack.sources.video import ConcealedFrameWarning

    clean = VideoSource(crossing_video)
    assert len(list(clean)) == 120 and clean.concealed == [] and clean.decode_errors == []
    data = bytearray(crossing_video.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 200] = bytes(200)
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))

    source = VideoSource(path)
    with pytest.warns(ConcealedFrameWarning, match=r"damaged\.mp4: FFmpeg concealed decoding errors in") as caught:
        indices = [i for i, _ in source]
    assert indices == list(range(120))  # nothing dropped: the frames are FFmpeg's patched guesses
    assert source.concealed and source.decode_errors
    assert all(e.startswith("h264: ") for e in source.decode_errors)
    first = source.concealed[0]
    assert source.damaged[0] == first and set(source.concealed) <= set(source.damaged)
    assert f"(0-based: {first}" in str(caught[0].message)
    with pytest.raises(SourceError, match=rf"damaged\.mp4: frame {first} \(0-based\) was decoded with errors that FFmpeg concealed") as info:
        list(open_source(path, strict_decode=True))
    assert info.value.index == first
    import av.logging

    assert av.logging.get_level() is None  # the log level PyAV had is restored
