"""A fixed malloc mmap threshold for the analysis: a steady peak memory per segment worker.

glibc's malloc serves blocks above its mmap threshold with fresh mappings and returns them on free; by default
that threshold rises to the size of the largest block freed (up to 32 MB), after which decoded frames, crops
and ONNX tensors (each 0.1-3 MB) are carved from the heap instead, and how far the heap then fragments depends
on the order of frees. Measured on the benchmark clips, one segment per fresh process: the 720p clip's 30 s
segment peaked at 274-403 MB run to run with the default and 254-276 MB in 14 runs with the threshold pinned
at 8 MB (330 MB once, as the worst of `make bench`'s three), the 1080p group clip at 262-322 MB and 253-269
MB, at the same CPU time within noise (a 256 KB threshold gave 235 MB but +15% CPU in page faults; at 4 MB,
251-256 MB, but every 1080p frame got its own mapping and cost 5-10% more CPU). Setting the threshold through
`mallopt` also turns the dynamic adjustment off, and with it the trim threshold's: glibc would then give the
heap's free top back to the system whenever it exceeded 128 KB, and the next frame or tensor faulted those
pages in again. The trim threshold is therefore pinned too, at 64 MB: on 30 s of the real 720p clip page
faults went from 160-170 thousand to 108 thousand and CPU time 3-9% down (1080p group clip 2.21 -> 2.02
CPU-s), with the same peak RSS (212-226 MB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

#: glibc's `M_TRIM_THRESHOLD` and `M_MMAP_THRESHOLD` parameter numbers for `mallopt`.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Blocks from this size up get their own mapping (a 1080p BGR frame is 6 MB, a 720p one 2.7 MB).
MMAP_THRESHOLD_BYTES = 8 * 1024 * 1024
#: Free memory at the heap's top kept for the next allocations instead of returned to the system.
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024


@functools.cache
def pin_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES, trim: int = TRIM_THRESHOLD_BYTES) -> bool:
    """Pin malloc's mmap and trim thresholds (once per process); False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # musl and others have no mallopt: their allocators behave differently anyway
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim))
