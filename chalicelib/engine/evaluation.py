"""Measure an expression classifier on labelled faces: `emotionfy evaluate LABELS.csv`.

The CSV lists `path,label` (paths relative to the CSV; any image OpenCV reads: 48x48 grayscale faces or
larger colour crops). Labels outside the project's seven are skipped and counted. Faces byte-identical to
any file under `exclude_duplicates_of` (e.g. a training set) can be skipped, so test figures stay honest.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from chalicelib.engine.errors import EngineError
from chalicelib.engine.expressions import ExpressionClassifier
from chalicelib.engine.labels import LABELS

ECE_BINS = 15
BATCH = 64


class EvaluationError(EngineError):
    """The labelled CSV or one of its images cannot be used."""


@dataclass
class LabelledFaces:
    """The faces to evaluate (absolute paths, label indices) and what was skipped on the way."""

    paths: list[Path]
    truth: np.ndarray
    ignored_labels: dict[str, int] = field(default_factory=dict)
    excluded_duplicates: int = 0


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes_under(directory: Path) -> set[str]:
    """SHA-256 of every file under `directory`, recursively."""
    if not directory.is_dir():
        raise EvaluationError(f"{directory} is not a directory")
    return {sha256_file(p) for p in directory.rglob("*") if p.is_file()}


def read_labelled_csv(labels_csv: Path, exclude_hashes: set[str] | None = None) -> LabelledFaces:
    """Rows of a `path,label` CSV: unknown labels counted and skipped, missing files an error."""
    if not labels_csv.is_file():
        raise EvaluationError(f"{labels_csv} does not exist")
    try:
        with open(labels_csv, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"path", "label"} <= set(reader.fieldnames):
                raise EvaluationError(f"{labels_csv} needs a header with the columns path,label")
            rows = [(row["path"] or "", (row["label"] or "").strip()) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationError(f"{labels_csv} is not a readable CSV file") from exc
    base = labels_csv.parent
    ignored: Counter[str] = Counter()
    paths, truth, excluded = [], [], 0
    for rel, label in rows:
        if label not in LABELS:
            ignored[label] += 1
            continue
        path = base / rel
        if not path.is_file():
            raise EvaluationError(f"{labels_csv}: image {rel!r} does not exist")
        if exclude_hashes and sha256_file(path) in exclude_hashes:
            excluded += 1
            continue
        paths.append(path)
        truth.append(LABELS.index(label))
    if not paths:
        raise EvaluationError(f"{labels_csv} lists no face with one of the labels {', '.join(LABELS)}")
    return LabelledFaces(paths, np.array(truth, dtype=np.int64), dict(ignored), excluded)


def load_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise EvaluationError(f"{path} is not an image OpenCV can read")
    return np.asarray(image)


def expected_calibration_error(probs: np.ndarray, truth: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE: confidence vs accuracy in `bins` equal-width confidence bins, weighted by count."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def metrics(probs: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """Accuracy, balanced recall (mean over the classes present), per-class recall, confusion matrix
    (rows: true label, columns: predicted), mean log-loss and ECE."""
    predicted = probs.argmax(axis=1)
    k = len(LABELS)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    support = confusion.sum(axis=1)
    recall = {LABELS[i]: (float(confusion[i, i] / support[i]) if support[i] else None) for i in range(k)}
    present = [r for r in recall.values() if r is not None]
    picked = np.clip(probs[np.arange(len(truth)), truth], 1e-12, 1.0)
    return {
        "faces": len(truth),
        "accuracy": float((predicted == truth).mean()),
        "balanced_recall": float(np.mean(present)),
        "recall": recall,
        "support": dict(zip(LABELS, support.tolist(), strict=True)),
        "confusion": confusion.tolist(),
        "log_loss": float(-np.log(picked).mean()),
        "ece": expected_calibration_error(probs, truth),
    }


def classify_faces(classifier: ExpressionClassifier, paths: list[Path]) -> tuple[np.ndarray, float]:
    """Probabilities for every face, and the classifier's time in ms per face (image reading excluded)."""
    out, seconds = [], 0.0
    for start in range(0, len(paths), BATCH):
        images = [load_image(p) for p in paths[start : start + BATCH]]
        began = time.perf_counter()
        out.append(classifier.classify(images))
        seconds += time.perf_counter() - began
    return np.concatenate(out), 1000 * seconds / max(len(paths), 1)


def evaluate(
    classifier: ExpressionClassifier, labels_csv: Path, exclude_duplicates_of: Path | None = None
) -> dict[str, Any]:
    """Every figure for one classifier on one labelled CSV."""
    exclude = hashes_under(exclude_duplicates_of) if exclude_duplicates_of else None
    faces = read_labelled_csv(labels_csv, exclude)
    probs, ms = classify_faces(classifier, faces.paths)
    result = {
        "classifier": classifier.version,
        "labels_csv": str(labels_csv),
        "labels": list(LABELS),
        **metrics(probs, faces.truth),
        "ms_per_face": ms,
        "ignored_labels": faces.ignored_labels,
        "excluded_duplicates": faces.excluded_duplicates,
        "excluded_duplicates_of": str(exclude_duplicates_of) if exclude_duplicates_of else None,
    }
    return result


def format_report(result: dict[str, Any]) -> str:
    """The figures as text: summary lines, per-class recall and the confusion matrix."""
    lines = [
        f"classifier {result['classifier']}: {result['faces']} faces from {result['labels_csv']}",
        f"accuracy          {100 * result['accuracy']:.1f}%",
        f"balanced recall   {100 * result['balanced_recall']:.1f}%",
        f"mean log-loss     {result['log_loss']:.3f}",
        f"ECE ({ECE_BINS} bins)     {100 * result['ece']:.1f}%",
        f"ms per face       {result['ms_per_face']:.2f}",
    ]
    if result["ignored_labels"]:
        ignored = ", ".join(
            f"{label or '(empty)'} {n}" for label, n in sorted(result["ignored_labels"].items())
        )
        lines.append(f"ignored (label not one of the seven): {ignored}")
    if result["excluded_duplicates_of"]:
        lines.append(
            f"excluded {result['excluded_duplicates']} face(s) byte-identical to a file under "
            f"{result['excluded_duplicates_of']}"
        )
    lines.append("")
    lines.append("recall per class")
    for label in LABELS:
        r = result["recall"][label]
        lines.append(
            f"  {label:<9} {'-' if r is None else f'{100 * r:5.1f}%'}  (n={result['support'][label]})"
        )
    lines.append("")
    lines.append("confusion matrix (rows: true label, columns: predicted)")
    short = [label[:7] for label in LABELS]
    lines.append(" " * 10 + "".join(f"{s:>8}" for s in short))
    for label, row in zip(short, result["confusion"], strict=True):
        lines.append(f"  {label:<8}" + "".join(f"{v:>8}" for v in row))
    return "\n".join(lines)
