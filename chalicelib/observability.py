"""Powertools Logger, Metrics and Tracer, shared by the routes and the pipeline steps.

Logs are JSON with the request id or video id as correlation id; metrics go out as CloudWatch EMF; the
tracer is a no-op outside Lambda (and when POWERTOOLS_TRACE_DISABLED is set).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

Handler = Callable[[Any, Any], Any]

SERVICE = "emotionfy"
NAMESPACE = "Emotionfy"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def observed(correlation_id_path: str, *, emits_metrics: bool = True) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: traced (X-Ray, in Lambda), JSON logs with the Lambda context and a
    correlation id, metrics flushed."""

    def decorate(handler: Handler) -> Handler:
        traced = tracer.capture_lambda_handler(handler)
        logged = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            traced
        )
        return metrics.log_metrics(logged) if emits_metrics else logged

    return decorate
