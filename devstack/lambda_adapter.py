"""moto runs Lambda code only in Docker; this adapter makes its invocations call our handlers in-process.

moto reaches every Lambda invocation (Step Functions tasks, S3 notifications, the Invoke API) through
`LambdaFunction._invoke_lambda(event)`, which returns `(payload, errored, logs)`. We replace that one
method: the function's name selects a handler, the event is decoded, and the handler's return value (or its
exception, shaped like the Lambda runtime's error payload, so Step Functions' Retry and Catch match on the
exception's class name) is encoded back.
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Any, Any], Any]
#: Called with ("before" | "after", function name, event) around every invocation (the fault tests use it
#: to stop a server exactly at a step boundary).
Listener = Callable[[str, str, Any], None]


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that our code and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 2048
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


def error_payload(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class InProcessLambdas:
    """A registry of handlers by function name, installed into moto's Lambda backend."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = dict(handlers)
        self.calls: list[str] = []
        self.listeners: list[Listener] = []
        self._original: Any = None

    def invoke(self, function_name: str, arn: str, event: Any) -> tuple[str, bool, str]:
        handler = self.handlers.get(function_name)
        if handler is None:
            message = f"no in-process handler registered for Lambda function {function_name!r}"
            return (
                json.dumps({"errorMessage": message, "errorType": "ResourceNotFoundException"}),
                True,
                message,
            )
        payload = json.loads(event) if isinstance(event, str | bytes) else event
        self.calls.append(function_name)
        try:
            for listener in list(self.listeners):
                listener("before", function_name, payload)
            result = handler(payload, LambdaContext(function_name=function_name, invoked_function_arn=arn))
            for listener in list(self.listeners):
                listener("after", function_name, payload)
        except Exception as exc:
            return json.dumps(error_payload(exc)), True, "".join(traceback.format_exception(exc))
        return json.dumps(result), False, ""

    def install(self) -> None:
        from moto.awslambda.models import LambdaFunction

        registry = self

        def _invoke_lambda(function: Any, event: str | None = None) -> tuple[str, bool, str]:
            return registry.invoke(function.function_name, function.function_arn, event or "{}")

        self._original = LambdaFunction._invoke_lambda
        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            from moto.awslambda.models import LambdaFunction

            LambdaFunction._invoke_lambda = self._original  # type: ignore[method-assign]
            self._original = None
