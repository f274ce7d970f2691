"""The analysis engine: probe a video, analyse time segments of it, merge them into one Analysis.

Nothing in this package imports Chalice, boto3, pymongo or redis: the cloud handlers, the local runner and
the CLI all call the same two functions, `analyze_segment` and `merge`.
"""
