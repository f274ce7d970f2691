"""The default classifier on the whole FER2013 PublicTest split: accuracy and balanced recall floors.

Prints the per-model and per-class figures (run with -s to see them; model/README.md records them).
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from chalicelib.engine.expressions import OnnxExpressionClassifier
from chalicelib.engine.labels import LABELS


@pytest.fixture(scope="module")
def fer_set(fer_dir: Path) -> tuple[list[np.ndarray], np.ndarray]:
    with open(fer_dir / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    images = [cv2.imread(str(fer_dir / row["path"])) for row in rows]
    assert all(image is not None for image in images)
    return [np.asarray(image) for image in images], np.array([LABELS.index(row["label"]) for row in rows])


def _evaluate(
    classifier: OnnxExpressionClassifier, images: list[np.ndarray], truth: np.ndarray
) -> tuple[float, float, np.ndarray]:
    probs = np.concatenate([classifier.classify(images[i : i + 128]) for i in range(0, len(images), 128)])
    predicted = probs.argmax(axis=1)
    recall = np.array([(predicted[truth == k] == k).mean() for k in range(len(LABELS))])
    return float((predicted == truth).mean()), float(recall.mean()), recall


@pytest.mark.parametrize(
    ("name", "flip", "min_accuracy", "min_balanced"),
    [
        ("ensemble", True, 0.59, 0.57),  # the default: both models, each with its mirror image
        ("mini_xception", False, 0.575, 0.50),
        ("faceapi", False, 0.55, 0.55),
    ],
)
def test_classifier_accuracy_on_fer2013_publictest(
    model_dir: Path,
    fer_set: tuple[list[np.ndarray], np.ndarray],
    name: str,
    flip: bool,
    min_accuracy: float,
    min_balanced: float,
) -> None:
    images, truth = fer_set
    assert len(images) == 3589
    accuracy, balanced, recall = _evaluate(
        OnnxExpressionClassifier(model_dir, name, flip=flip), images, truth
    )
    per_class = " ".join(f"{label}={r:.3f}" for label, r in zip(LABELS, recall, strict=True))
    print(f"\n{name}{'+flip' if flip else ''}: accuracy {accuracy:.4f} balanced {balanced:.4f} | {per_class}")
    assert accuracy >= min_accuracy
    assert balanced >= min_balanced


def test_default_classifier_is_the_flipped_ensemble(model_dir: Path) -> None:
    classifier = OnnxExpressionClassifier(model_dir)
    assert (classifier.name, classifier.flip, len(classifier.models)) == ("ensemble", True, 2)
