"""Find faces with face-api's Tiny Face Detector (a ~190 kB TinyYolov2 with separable convs) in ONNX.

Preprocessing matches face-api: the frame is padded with zeros at the bottom/right to a square (face-api's
default, not centred) and resized to `input_size` (a multiple of 32). Here the frame is shrunk first and
padded after, which is the same picture but cheaper. The ONNX graph (model/tiny_face_detector.py) returns
the raw grid; boxes are decoded as face-api's TinyYolov2Base.extractBoxes does (sigmoid offsets, exp sizes
times the anchors) and pruned with face-api's greedy NMS.

face-api's boxes hug the face (brows to lower lip); our expression classifiers were trained on FER2013-like
crops, closer to Haar boxes (forehead to chin), so each box is grown and shifted by BOX_ADJUST.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from chalicelib.engine.onnx_sessions import load_session

Box = tuple[int, int, int, int]  # x, y, w, h in pixels of the upright frame

# face-api src/tinyFaceDetector/const.ts, in grid cells (width, height).
BOX_ANCHORS = np.array(
    [
        [1.603231, 2.094468],
        [6.041143, 7.080126],
        [2.882459, 3.518061],
        [4.266906, 5.178857],
        [9.041765, 10.66308],
    ]
)
BOX_VALUES = 5  # tx, ty, tw, th, score logit
COARSE_SIZE = 160  # extra pass for faces filling the frame; 0 disables it


@dataclass(frozen=True)
class BoxAdjust:
    """Fixed map from a face-api box to a Haar-like box: scale about the centre, then shift the centre.

    Shifts are fractions of the adjusted size (positive dy moves the box down).
    """

    scale_w: float = 1.0
    scale_h: float = 1.0
    dx: float = 0.0
    dy: float = 0.0


# Measured on 297 face pairs (Haar and TinyFaceDetector 320+160 finding the same face, IoU > 0.3, 5 fixture
# videos at 5 samples/s): median haar_w/tiny_w 0.98, haar_h/tiny_h 1.02, (haar_cy - tiny_cy)/haar_h -0.14,
# (haar_cx - tiny_cx)/haar_w +0.04 (per-video medians -0.01..+0.05, no anatomical reason: not applied).
# So keep the size and move the box up by 14% of its height (towards the forehead).
BOX_ADJUST = BoxAdjust(scale_w=1.0, scale_h=1.0, dx=0.0, dy=-0.14)


class TinyFaceDetector:
    """face-api Tiny Face Detector on onnxruntime, with the FaceDetector interface."""

    def __init__(
        self,
        model_path: Path,
        input_size: int = 320,
        score_threshold: float = 0.5,
        iou_threshold: float = 0.4,
        coarse_size: int = COARSE_SIZE,
        adjust: BoxAdjust = BOX_ADJUST,
    ) -> None:
        sizes = (input_size, coarse_size) if coarse_size else (input_size,)
        if any(size % 32 or size <= 0 for size in sizes):
            raise ValueError(f"input sizes must be positive multiples of 32, got {sizes}")
        self.input_size = input_size
        self.coarse_size = coarse_size
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold
        self.adjust = adjust
        self._session = load_session(model_path)

    def detect(self, frame_bgr: np.ndarray) -> list[Box]:
        """Face boxes in full-resolution coordinates, clipped to the frame, largest first."""
        height, width = frame_bgr.shape[:2]
        side = max(height, width)
        out = [
            _to_pixels(adjust_box(box, self.adjust), side, width, height) for box in self.raw_boxes(frame_bgr)
        ]
        out = [b for b in out if b[2] > 0 and b[3] > 0]
        return sorted(out, key=lambda b: b[2] * b[3], reverse=True)

    def redetect(self, frame_bgr: np.ndarray, known: list[Box]) -> list[Box]:
        """A full pass costs ~4 ms here, so there is nothing to gain from searching near known faces."""
        return self.detect(frame_bgr)

    def raw_boxes(self, frame_bgr: np.ndarray) -> np.ndarray:
        """face-api's boxes after NMS, [K, 4] (x0, y0, x1, y1) relative to the padded square, unadjusted."""
        sizes = (self.input_size, self.coarse_size) if self.coarse_size else (self.input_size,)
        found = [self._pass(frame_bgr, size) for size in sizes]
        boxes = np.concatenate([b for b, _ in found])
        scores = np.concatenate([s for _, s in found])
        return boxes[nms(boxes, scores, self.iou_threshold)]

    def _pass(self, frame_bgr: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        grid = self._session.run(["grid"], {"image": preprocess(frame_bgr, size)})[0][0]
        return decode(grid, self.score_threshold)


def preprocess(frame_bgr: np.ndarray, size: int) -> np.ndarray:
    """[1, S, S, 3] float32 RGB: the frame shrunk to fit S x S, zero-padded at the bottom/right."""
    if frame_bgr.ndim == 2:
        frame_bgr = cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
    height, width = frame_bgr.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    small = cv2.resize(frame_bgr, (new_w, new_h), interpolation=interpolation)
    image = np.zeros((1, size, size, 3), np.float32)
    image[0, :new_h, :new_w] = small[:, :, ::-1]
    return image


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def decode(grid: np.ndarray, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes [K, 4] (x0, y0, x1, y1, relative to the padded square) and scores [K] above the threshold.

    `grid` is one image's raw output [25, G, G], channel = anchor * 5 + (tx, ty, tw, th, score logit).
    """
    cells = grid.shape[-1]
    t = grid.reshape(len(BOX_ANCHORS), BOX_VALUES, cells, cells).astype(np.float64)
    scores = _sigmoid(t[:, 4])
    anchor, row, col = np.nonzero(scores > score_threshold)
    tx, ty, tw, th = (t[anchor, k, row, col] for k in range(4))
    cx = (col + _sigmoid(tx)) / cells
    cy = (row + _sigmoid(ty)) / cells
    w = np.exp(tw) * BOX_ANCHORS[anchor, 0] / cells
    h = np.exp(th) * BOX_ANCHORS[anchor, 1] / cells
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, scores[anchor, row, col]


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """face-api nonMaxSuppression: greedy by score, dropping boxes whose IoU exceeds the threshold."""
    order = list(np.argsort(-scores, kind="stable"))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order:
        best, rest = order[0], np.asarray(order[1:], dtype=np.int64)
        keep.append(int(best))
        iw = np.clip(
            np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]), 0, None
        )
        ih = np.clip(
            np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]), 0, None
        )
        inter = iw * ih
        iou = inter / (areas[best] + areas[rest] - inter)
        order = [int(i) for i in rest[iou <= iou_threshold]]
    return keep


def adjust_box(box: np.ndarray, adjust: BoxAdjust) -> np.ndarray:
    """Scale an (x0, y0, x1, y1) box about its centre and shift it by fractions of its new size."""
    w = (box[2] - box[0]) * adjust.scale_w
    h = (box[3] - box[1]) * adjust.scale_h
    cx = (box[0] + box[2]) / 2 + adjust.dx * w
    cy = (box[1] + box[3]) / 2 + adjust.dy * h
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _to_pixels(box: np.ndarray, side: int, width: int, height: int) -> Box:
    """Relative-to-square (x0, y0, x1, y1) -> (x, y, w, h) in frame pixels, clipped to the frame."""
    x0 = int(np.clip(round(box[0] * side), 0, width))
    y0 = int(np.clip(round(box[1] * side), 0, height))
    x1 = int(np.clip(round(box[2] * side), 0, width))
    y1 = int(np.clip(round(box[3] * side), 0, height))
    return x0, y0, x1 - x0, y1 - y0
