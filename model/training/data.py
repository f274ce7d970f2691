"""The training data: FER2013 Training faces, deduplicated by SHA-256, split into train and validation.

Reads only `../shared/datasets/fer2013-train` (never the PublicTest fixture). No torch here: the stacking
step and the tests use it too.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "fer2013-train"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class TrainingSet:
    """Deduplicated faces (uint8 [N,48,48]), labels, hashes, and what deduplication removed."""

    images: np.ndarray
    labels: np.ndarray
    hashes: list[str]
    paths: list[str]
    stats: dict[str, int] = field(default_factory=dict)

    def split(self, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Stratified split: indices (train, validation), `fraction` of every class in validation."""
        rng = np.random.default_rng(seed)
        train, val = [], []
        for k in range(len(LABELS)):
            idx = np.flatnonzero(self.labels == k)
            idx = idx[rng.permutation(len(idx))]
            n_val = round(len(idx) * fraction)
            val.append(idx[:n_val])
            train.append(idx[n_val:])
        return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def _read_gray(path: Path, size: int) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"unreadable image {path}")
    if image.shape != (size, size):
        interpolation = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_LINEAR
        image = cv2.resize(image, (size, size), interpolation=interpolation)
    return image


def load_training_set(dataset: Path = DEFAULT_DATASET, size: int = 48) -> TrainingSet:
    """Every listed face once: byte-identical copies collapse to the first (sorted by path); a file whose
    copies carry different labels is dropped altogether (its label is unknowable)."""
    with open(dataset / "labels.csv", newline="") as handle:
        rows = sorted((row["path"], row["label"]) for row in csv.DictReader(handle))
    by_hash: dict[str, list[tuple[str, str]]] = {}
    for rel, label in rows:
        by_hash.setdefault(sha256_file(dataset / rel), []).append((rel, label))
    kept = [(digest, copies[0]) for digest, copies in by_hash.items() if len({lbl for _, lbl in copies}) == 1]
    kept.sort(key=lambda item: item[1][0])
    conflicting = [copies for copies in by_hash.values() if len({lbl for _, lbl in copies}) > 1]
    stats = {
        "listed": len(rows),
        "unique_files": len(by_hash),
        "duplicate_copies_removed": len(rows) - len(by_hash),
        "conflicting_label_groups_dropped": len(conflicting),
        "conflicting_label_files_dropped": sum(len(c) for c in conflicting),
        "kept": len(kept),
    }
    images = np.stack([_read_gray(dataset / rel, size) for _, (rel, _) in kept])
    labels = np.array([LABELS.index(label) for _, (_, label) in kept], dtype=np.int64)
    counts = Counter(labels.tolist())
    stats.update({f"kept_{LABELS[k]}": counts.get(k, 0) for k in range(len(LABELS))})
    return TrainingSet(images, labels, [d for d, _ in kept], [rel for _, (rel, _) in kept], stats)
