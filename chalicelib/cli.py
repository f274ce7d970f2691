"""`emotionfy analyze VIDEO`: the command-line way to analyse a video on this machine.

`emotionfy evaluate LABELS.csv`: a classifier's accuracy, recall, calibration and speed on labelled faces."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from chalicelib.engine import report
from chalicelib.engine.errors import EngineError
from chalicelib.engine.expressions import CLASSIFIERS
from chalicelib.engine.faces import DETECTORS
from chalicelib.engine.runner import analyze_video
from chalicelib.engine.segment import AnalysisOptions
from chalicelib.settings import engine_settings

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    settings = engine_settings()
    parser = argparse.ArgumentParser(prog="emotionfy", description="Facial-expression analytics for videos.")
    commands = parser.add_subparsers(dest="command", required=True)
    analyze = commands.add_parser("analyze", help="analyse a video and write its report")
    analyze.add_argument("video", type=Path)
    analyze.add_argument("--fps", type=float, default=settings.sample_fps, help="samples per second")
    analyze.add_argument("--segment-seconds", type=float, default=settings.segment_seconds)
    analyze.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel processes")
    analyze.add_argument("--classifier", choices=CLASSIFIERS, default=settings.classifier)
    analyze.add_argument(
        "--detector",
        choices=DETECTORS,
        default=settings.detector,
        help="blazeface (default: MediaPipe's learned detectors, turned and blurry faces too), "
        "haar (OpenCV's cascade, frontal faces) or tiny (4 ms a frame; close-ups and webcams)",
    )
    analyze.add_argument("--json", type=Path, help="write the Analysis JSON here")
    analyze.add_argument("--csv", type=Path, help="write per-sample rows here")
    analyze.add_argument("--html", type=Path, help="write the HTML report here")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = commands.add_parser(
        "evaluate", help="measure a classifier on faces listed in a path,label CSV"
    )
    evaluate.add_argument(
        "labels_csv", type=Path, metavar="LABELS.csv", help="path,label rows (paths relative)"
    )
    evaluate.add_argument("--classifier", choices=CLASSIFIERS, default=settings.classifier)
    evaluate.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average each face with its mirror image (default: as the classifier does in analyses)",
    )
    evaluate.add_argument(
        "--exclude-duplicates-of",
        type=Path,
        metavar="DIR",
        help="skip faces byte-identical to any file under DIR (e.g. the training set)",
    )
    evaluate.add_argument(
        "--model-dir", type=Path, default=settings.model_dir, help="where the ONNX files are"
    )
    evaluate.add_argument("--json", type=Path, help="write the figures here as JSON")
    return parser


class ProgressBar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label, self.enabled, self.tty = label, enabled, sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        line = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} segments"
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if done == total else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _analyze(args: argparse.Namespace) -> int:
    if args.fps <= 0 or args.fps > 60:
        raise EngineError("--fps must be between 0 and 60 samples per second")
    if args.segment_seconds <= 0:
        raise EngineError("--segment-seconds must be positive")
    if args.workers < 1:
        raise EngineError("--workers must be at least 1")
    options = AnalysisOptions(sample_fps=args.fps, classifier=args.classifier, detector=args.detector)
    analysis = analyze_video(
        args.video,
        options,
        segment_seconds=args.segment_seconds,
        workers=args.workers,
        progress=ProgressBar(args.video.name, not args.quiet),
    )
    outputs = {
        args.json: lambda: json.dumps(analysis, indent=1) + "\n",
        args.csv: lambda: report.to_csv(analysis),
        args.html: lambda: report.to_html(analysis, args.video.name),
    }
    written = []
    for path, render in outputs.items():
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(), encoding="utf-8")
            written.append(str(path))
    summary = analysis["summary"]
    print(
        f"{args.video.name}: {report.format_duration(analysis['video']['duration'])}, "
        f"{len(analysis['faces'])} face track(s), "
        f"dominant {summary['dominant'] or 'no face'}, valence {summary['valence']:+.2f}, "
        f"expressiveness {summary['expressiveness']:.2f}, face presence {100 * summary['face_presence']:.0f}%"
    )
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(json.dumps(summary, indent=1))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from chalicelib.engine.evaluation import evaluate, format_report
    from chalicelib.engine.expressions import OnnxExpressionClassifier

    classifier = OnnxExpressionClassifier(args.model_dir, args.classifier, flip=args.flip)
    result = evaluate(classifier, args.labels_csv, args.exclude_duplicates_of)
    print(format_report(result))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _evaluate(args) if args.command == "evaluate" else _analyze(args)
    except EngineError as exc:
        print(f"emotionfy: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("emotionfy: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
