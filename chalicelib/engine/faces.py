"""Find frontal faces in a frame with OpenCV's Haar cascade, cheaply but without losing small faces.

A full pass runs the cascade on a grayscale copy downscaled to 320 px wide. A downscale that far would
lose the small faces of a high-resolution crowd shot, so a finer pass (up to 960 px wide, looking only for
faces too small for the coarse pass) runs when the frame is large or the coarse pass found nothing.

A full pass costs 25-60 ms of CPU here, too much for every sample, so between full passes `redetect` looks
only around the faces already known: a small window around each, at the scales near its size (1-2 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from chalicelib.engine.errors import ModelError

Box = tuple[int, int, int, int]  # x, y, w, h in pixels of the upright frame


DETECTORS = ("blazeface", "haar", "tiny")


class Detector(Protocol):
    """What the segment analysis needs of a face detector."""

    def detect(self, frame_bgr: np.ndarray) -> list[Box]: ...

    def redetect(self, frame_bgr: np.ndarray, known: list[Box]) -> list[Box]: ...


@dataclass(frozen=True)
class DetectorConfig:
    coarse_width: int = 320
    fine_width: int = 960
    #: Frames wider than this always get the fine pass too (1080p and up; 720p only when the coarse
    #: pass finds nothing).
    large_frame_width: int = 1600
    min_face: int = 24
    scale_factor: float = 1.1
    min_neighbors: int = 5
    #: Around a known face, search a window this many face sides wide, for faces 0.7-1.45x its size.
    window: float = 2.0
    window_face: int = 80
    #: Near a known face a weaker vote suffices: the prior that a face is there is strong.
    window_min_neighbors: int = 3


class FaceDetector:
    """Haar frontal-face detector with a coarse pass and a finer pass for small faces."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise ModelError(f"cannot load the Haar cascade from {path}")

    def detect(self, frame_bgr: np.ndarray) -> list[Box]:
        """Face boxes in full-resolution coordinates, largest first."""
        gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
        cfg = self.config
        width = gray.shape[1]
        coarse_scale = min(1.0, cfg.coarse_width / width)
        boxes = self._detect_at(gray, coarse_scale, min_size=cfg.min_face, max_size=0)
        needs_fine = coarse_scale < 1.0 and (not boxes or width >= cfg.large_frame_width)
        if needs_fine:
            fine_scale = min(1.0, cfg.fine_width / width)
            if fine_scale > coarse_scale * 1.2:
                # Only faces the coarse pass could not see: smaller than its minimum size.
                limit = int(cfg.min_face * fine_scale / coarse_scale) + 2
                small = self._detect_at(gray, fine_scale, min_size=cfg.min_face, max_size=limit)
                boxes = _merge_boxes(boxes, small)
        return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)

    def redetect(self, frame_bgr: np.ndarray, known: list[Box]) -> list[Box]:
        """Find again the faces near `known` boxes, looking only in a window around each."""
        gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
        height, width = gray.shape[:2]
        found: list[Box] = []
        for x, y, w, h in known:
            side = max(w, h)
            pad = int(side * (self.config.window - 1) / 2)
            x0, y0 = max(0, x - pad), max(0, y - pad)
            x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
            if x1 - x0 < side // 2 or y1 - y0 < side // 2:
                continue
            scale = min(1.0, self.config.window_face / side)
            face = side * scale
            boxes = self._detect_at(
                gray[y0:y1, x0:x1],
                scale,
                min_size=max(self.config.min_face, int(face * 0.7)),
                max_size=int(face * 1.45) + 1,
                min_neighbors=self.config.window_min_neighbors,
            )
            found = _merge_boxes(found, [(bx + x0, by + y0, bw, bh) for bx, by, bw, bh in boxes])
        return sorted(found, key=lambda b: b[2] * b[3], reverse=True)

    def _detect_at(
        self, gray: np.ndarray, scale: float, *, min_size: int, max_size: int, min_neighbors: int = 0
    ) -> list[Box]:
        image = gray
        if scale < 1.0:
            image = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        image = cv2.equalizeHist(image)
        found = self._cascade.detectMultiScale(
            image,
            scaleFactor=self.config.scale_factor,
            minNeighbors=min_neighbors or self.config.min_neighbors,
            minSize=(min_size, min_size),
            maxSize=(max_size, max_size) if max_size else (0, 0),
        )
        return [(int(x / scale), int(y / scale), int(w / scale), int(h / scale)) for (x, y, w, h) in found]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _merge_boxes(keep: list[Box], extra: list[Box], threshold: float = 0.3) -> list[Box]:
    out = list(keep)
    for box in extra:
        if all(iou(box, other) < threshold for other in out):
            out.append(box)
    return out


def crop_square(frame_bgr: np.ndarray, box: Box) -> np.ndarray:
    """The face box as a square crop, zero-padded where it leaves the frame."""
    x, y, w, h = box
    side = max(w, h)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    height, width = frame_bgr.shape[:2]
    crop = np.zeros((side, side, *frame_bgr.shape[2:]), dtype=frame_bgr.dtype)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(width, x0 + side), min(height, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = frame_bgr[sy0:sy1, sx0:sx1]
    return crop
