"""The training data (`model/training/data.py`, no torch): deduplication and the stratified split, on
synthetic faces (never the fixtures)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from model.training.data import LABELS, load_training_set


def _synthetic_dataset(root: Path, per_class: int = 6) -> Path:
    """Random 48x48 faces: class k is a bright square at a class-specific place (learnable), plus two
    byte-identical copies and one copy listed under two labels."""
    rng = np.random.default_rng(0)
    lines = ["path,label"]
    for k, label in enumerate(LABELS):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            image = rng.integers(0, 80, (48, 48), dtype=np.uint8)
            image[6 * k : 6 * k + 12, 6 * k : 6 * k + 12] = 250
            cv2.imwrite(str(root / label / f"{i}.png"), image)
            lines.append(f"{label}/{i}.png,{label}")
    (root / "happy" / "copy.png").write_bytes((root / "happy" / "0.png").read_bytes())
    lines.append("happy/copy.png,happy")
    (root / "sad" / "clash.png").write_bytes((root / "angry" / "1.png").read_bytes())
    lines.append("sad/clash.png,sad")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


def test_training_set_is_deduplicated_and_split_stratified(tmp_path: Path) -> None:
    data = load_training_set(_synthetic_dataset(tmp_path / "d"))
    assert data.stats["listed"] == 7 * 6 + 2
    assert data.stats["duplicate_copies_removed"] == 2
    assert data.stats["conflicting_label_groups_dropped"] == 1  # angry/1.png == sad/clash.png
    assert data.stats["kept"] == 7 * 6 - 1 == len(data.images) == len(set(data.hashes))
    train, val = data.split(1 / 3, seed=5)
    assert not set(train) & set(val) and len(train) + len(val) == len(data.labels)
    assert np.bincount(data.labels[val], minlength=7).tolist() == [2] * 7
    again_train, again_val = data.split(1 / 3, seed=5)
    assert (train == again_train).all() and (val == again_val).all()
