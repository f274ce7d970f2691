"""`python -m model.smoothing`: choose the smoothing filter on validation faces (see model/training)."""

from __future__ import annotations

import sys

from model.training.smoothing import main

if __name__ == "__main__":
    sys.exit(main())
