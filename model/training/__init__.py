"""Training the project's own expression net and fitting the calibrated combination (the `[train]` extra)."""
