"""The analysis pipeline: S3 upload event -> Step Functions (Probe -> Map(AnalyzeSegment) -> Merge)."""
