import numpy as np
import pytest

from reasoningtrack import geometry as g


def test_conversions_round_trip():
    rng = np.random.default_rng(0)
    boxes = np.column_stack([rng.uniform(-50, 500, 100), rng.uniform(-50, 500, 100), rng.uniform(0.5, 80, 100), rng.uniform(0.5, 80, 100)])
    np.testing.assert_allclose(g.xyxy_to_xywh(g.xywh_to_xyxy(boxes)), boxes)
    np.testing.assert_allclose(g.cxcywh_to_xywh(g.xywh_to_cxcywh(boxes)), boxes)
    assert g.xywh_to_xyxy([1, 2, 3, 4]).tolist() == [[1, 2, 4, 6]]


def test_iou_known_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 0, 0]])
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [10, 10, 5, 5], [2, 2, 5, 5], [0, 0, 0, 0]])
    np.testing.assert_allclose(g.iou(a, b), [1.0, 50 / 150, 0.0, 25 / 100, 0.0])


def test_iou_matches_toolkit_pixel_formula():
    """The MATLAB toolkits use right = x + w - 1 and +1 on the intersection: same numbers."""
    rng = np.random.default_rng(1)
    a = np.column_stack([rng.integers(1, 100, 500), rng.integers(1, 100, 500), rng.integers(1, 60, 500), rng.integers(1, 60, 500)]).astype(float)
    b = np.column_stack([rng.integers(1, 100, 500), rng.integers(1, 100, 500), rng.integers(1, 60, 500), rng.integers(1, 60, 500)]).astype(float)
    left = np.maximum(a[:, 0], b[:, 0])
    right = np.minimum(a[:, 0] + a[:, 2] - 1, b[:, 0] + b[:, 2] - 1)
    top = np.maximum(a[:, 1], b[:, 1])
    bottom = np.minimum(a[:, 1] + a[:, 3] - 1, b[:, 1] + b[:, 3] - 1)
    inter = np.clip(right - left + 1, 0, None) * np.clip(bottom - top + 1, 0, None)
    expected = inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter)
    np.testing.assert_allclose(g.iou(a, b), expected)


def test_center_errors():
    gt = np.array([[10, 10, 20, 40]])
    pred = np.array([[13, 14, 20, 40]])
    np.testing.assert_allclose(g.center_error(pred, gt), [5.0])
    np.testing.assert_allclose(g.normalized_center_error(pred, gt), [np.hypot(3 / 20, 4 / 40)])


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        g.as_boxes([1, 2, 3])
    with pytest.raises(ValueError, match="differ in shape"):
        g.iou(np.zeros((2, 4)), np.zeros((3, 4)))


def test_clip_boxes():
    out = g.clip_boxes([[-5, -5, 20, 20], [90, 90, 20, 20], [200, 200, 5, 5]], 100, 100)
    np.testing.assert_allclose(out, [[0, 0, 15, 15], [90, 90, 10, 10], [100, 100, 0, 0]])
