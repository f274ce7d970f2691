"""Load an ONNX model for single-threaded inference (parallelism comes from segments, not threads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chalicelib.engine.errors import ModelError


def load_session(path: Path, arena: bool = False) -> Any:
    """An onnxruntime session on the CPU with one thread; `ModelError` if the file is missing.

    `arena`: keep onnxruntime's memory arena, for models run on small batches many times (the expression
    nets). Without it every run allocates its activations afresh, and those above the worker's 8 MB mmap
    threshold (engine/memory.py) are mapped and faulted in each time: face-api on 16 crops and their
    mirrors took 42 ms a run without the arena and 27 with it. The arena keeps the largest run's
    activations, so the engine classifies in small batches (segment._BATCH)."""
    import onnxruntime as ort

    if not path.is_file():
        raise ModelError(f"model file {path} is missing: run `make models` (python -m model.build)")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Off by default: with it the detector's and the mesh's peaks stayed resident too (~50 MB more per
    # worker on the 1080p group clip for ~1% less CPU).
    options.enable_cpu_mem_arena = arena
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_in_chunks(
    session: Any, outputs: list[str], batch: np.ndarray, chunk: int, input_name: str = "image"
) -> list[np.ndarray]:
    """`session.run` on `chunk` inputs of `batch` at a time, each output joined again along the batch axis.

    On one thread these models cost more per input in larger batches: their activations outgrow the CPU's
    caches, and without an arena the larger buffers are mapped and faulted in afresh on every run. Measured
    per input with the worker's malloc settings, batch 1 / 2 / 8: full-range BlazeFace 3.5 / 3.9 / 5.6 ms,
    the face mesh 1.5 / 1.6 / 2.5, the iris model 1.6 / 1.5 / 2.9, face-api (arena) 1.4 / 1.4 / 1.6; our own
    48x48 net is the exception (1.15 / 1.0 / 0.9). Each caller passes the chunk its model runs best at."""
    if len(batch) <= chunk:
        return list(session.run(outputs, {input_name: batch}))
    parts = [session.run(outputs, {input_name: batch[i : i + chunk]}) for i in range(0, len(batch), chunk)]
    return [np.concatenate([part[k] for part in parts]) for k in range(len(outputs))]
