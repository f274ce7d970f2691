"""Load an ONNX model for single-threaded inference (parallelism comes from segments, not threads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.engine.errors import ModelError


def load_session(path: Path) -> Any:
    """An onnxruntime session on the CPU with one thread; `ModelError` if the file is missing."""
    import onnxruntime as ort

    if not path.is_file():
        raise ModelError(f"model file {path} is missing: run `make models` (python -m model.build)")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = False  # the arena kept ~300 MB of peak activations per worker
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
