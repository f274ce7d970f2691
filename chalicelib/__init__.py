"""Emotionfy: facial-expression analytics for videos of an audience.

`chalicelib.engine` is the analysis engine (video in, emotion timeline out); it has no cloud imports.
"""
