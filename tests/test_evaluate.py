"""`emotionfy evaluate`: figures on a small labelled set of fixture faces, and clear errors for bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from chalicelib.cli import EXIT_BAD_INPUT, main
from chalicelib.engine.evaluation import expected_calibration_error, metrics
from chalicelib.engine.labels import LABELS


@pytest.fixture
def labelled(tmp_path: Path, fer_dir: Path) -> Path:
    """Three fixture faces per label copied into tmp_path, one enlarged to a colour crop, one 'contempt'."""
    with open(fer_dir / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    chosen = [row for label in LABELS for row in [r for r in rows if r["label"] == label][:3]]
    (tmp_path / "faces").mkdir()
    lines = ["path,label"]
    for i, row in enumerate(chosen):
        target = tmp_path / "faces" / f"{i}.png"
        if i == 0:  # a larger colour crop
            gray = cv2.imread(str(fer_dir / row["path"]), cv2.IMREAD_GRAYSCALE)
            assert gray is not None
            big = cv2.resize(gray, (160, 160), interpolation=cv2.INTER_LINEAR)
            colour = cv2.merge([big, (big * 0.9).astype(np.uint8), big])
            cv2.imwrite(str(target), colour)
        else:
            shutil.copyfile(fer_dir / row["path"], target)
        lines.append(f"faces/{i}.png,{row['label']}")
    lines.append("faces/1.png,contempt")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "labels.csv"


def test_evaluate_prints_and_writes_every_figure(
    labelled: Path, model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "figures.json"
    code = main(
        [
            "evaluate",
            str(labelled),
            "--classifier",
            "mini_xception",
            "--model-dir",
            str(model_dir),
            "--json",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    for text in (
        "accuracy",
        "balanced recall",
        "log-loss",
        "ECE (15 bins)",
        "ms per face",
        "confusion matrix",
    ):
        assert text in printed
    assert "ignored (label not one of the seven): contempt 1" in printed
    result = json.loads(out.read_text())
    assert result["faces"] == 21
    assert result["ignored_labels"] == {"contempt": 1}
    assert result["labels"] == list(LABELS)
    assert sum(map(sum, result["confusion"])) == 21
    assert all(sum(row) == 3 for row in result["confusion"])
    assert set(result["recall"]) == set(LABELS)
    diagonal = sum(result["confusion"][i][i] for i in range(len(LABELS)))
    assert result["accuracy"] == pytest.approx(diagonal / 21)
    assert result["balanced_recall"] == pytest.approx(np.mean(list(result["recall"].values())))
    assert 0 <= result["ece"] <= 1 and result["log_loss"] > 0 and result["ms_per_face"] > 0
    assert result["accuracy"] > 0.3  # real faces, a real model: far better than chance (1/7)


def test_evaluate_excludes_duplicates_of_a_folder(
    labelled: Path, model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = tmp_path / "seen" / "nested"
    seen.mkdir(parents=True)
    shutil.copyfile(tmp_path / "faces" / "3.png", seen / "a.png")
    shutil.copyfile(tmp_path / "faces" / "7.png", seen / "b.jpg")
    out = tmp_path / "f.json"
    args = ["evaluate", str(labelled), "--classifier", "faceapi", "--model-dir", str(model_dir)]
    assert main([*args, "--exclude-duplicates-of", str(tmp_path / "seen"), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert (result["faces"], result["excluded_duplicates"]) == (19, 2)
    assert "excluded 2 face(s) byte-identical" in capsys.readouterr().out


def test_missing_image_is_a_clear_error_with_exit_code_2(
    labelled: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open(labelled, "a") as handle:
        handle.write("faces/nowhere.png,happy\n")
    assert main(["evaluate", str(labelled), "--model-dir", str(model_dir)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith("emotionfy: error: ") and "'faces/nowhere.png' does not exist" in err
    assert "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("file,emotion\na.png,happy\n", "needs a header with the columns path,label"),
        ("path,label\na.png,contempt\n", "lists no face with one of the labels"),
    ],
)
def test_unusable_csv_is_a_clear_error(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "labels.csv"
    if content is not None:
        path.write_text(content)
    assert main(["evaluate", str(path), "--model-dir", str(model_dir)]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_unreadable_image_is_a_clear_error(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.png").write_text("not an image")
    (tmp_path / "labels.csv").write_text("path,label\na.png,happy\n")
    assert main(["evaluate", str(tmp_path / "labels.csv"), "--model-dir", str(model_dir)]) == EXIT_BAD_INPUT
    assert "is not an image OpenCV can read" in capsys.readouterr().err


def test_metrics_and_calibration_error_by_hand() -> None:
    truth = np.array([0, 0, 1, 3])
    probs = np.full((4, 7), 0.05)
    probs[0, 0] = probs[1, 3] = probs[2, 1] = probs[3, 3] = 0.7  # three right, one wrong, all at 0.7
    result = metrics(probs, truth)
    assert result["accuracy"] == 0.75
    assert result["recall"]["angry"] == 0.5 and result["recall"]["disgust"] == 1.0
    assert result["recall"]["fear"] is None  # absent classes are left out of the balanced recall
    assert result["balanced_recall"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert result["confusion"][0][3] == 1
    assert result["log_loss"] == pytest.approx(-(3 * np.log(0.7) + np.log(0.05)) / 4)
    assert expected_calibration_error(probs, truth) == pytest.approx(0.05)  # one bin: |0.75 - 0.7|
    perfect = np.eye(7)[[0, 1, 2]]
    assert expected_calibration_error(perfect, np.array([0, 1, 2])) == 0.0
