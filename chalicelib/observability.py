"""Powertools Logger, Metrics and Tracer, shared by the routes, the authorizer and the pipeline steps.

Logs are JSON; each invocation starts from a clean state holding its own function's Lambda context and a
correlation id: API Gateway's request id for the API and the authorizer, the video id (or the uploaded key)
for the pipeline. Metrics go out as CloudWatch EMF; the tracer is a no-op outside Lambda (and when
POWERTOOLS_TRACE_DISABLED is set).

**Keys belong to the invocation, not to the process.** Powertools keeps appended keys in one dictionary
per logger by default. In Lambda one process runs one invocation at a time, but the local stack runs API
requests on many threads of one process while pipeline steps run on others: with shared keys, a request's
warning came out with a pipeline function's name and another video's correlation id. `logger` therefore
keeps every key it is given (`append_keys`, `set_correlation_id`, the Lambda context) in Powertools'
thread-local store (a ContextVar), and `logged_invocation` clears that store when an invocation starts, so
neither a concurrent invocation nor the previous one on the same thread can leak into its lines. Only the
constructor's keys (service, level, location, ...) are shared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from chalice.app import ChaliceAuthorizer

Handler = Callable[[Any, Any], Any]

SERVICE = "emotionfy"
NAMESPACE = "Emotionfy"
#: API Gateway's request id in a REST proxy event (and in a REQUEST authorizer's, or the local one's).
API_REQUEST_ID = correlation_paths.API_GATEWAY_REST


class InvocationLogger(Logger):
    """A Powertools Logger whose appended keys live per thread (per context), never per process.

    `append_keys`, `remove_keys` and `set_correlation_id` (and so `inject_lambda_context`, which calls
    them unless `clear_state=True`) use Powertools' `thread_safe_*` store; a log line shows the constructor's
    keys overlaid with the current thread's."""

    def append_keys(self, **additional_keys: object) -> None:
        self.thread_safe_append_keys(**additional_keys)

    def remove_keys(self, keys: Iterable[str]) -> None:
        self.thread_safe_remove_keys(keys)

    def get_current_keys(self) -> dict[str, Any]:
        return {**super().get_current_keys(), **self.thread_safe_get_current_keys()}

    def get_correlation_id(self) -> str | None:
        value = self.thread_safe_get_current_keys().get("correlation_id")
        return None if value is None else str(value)


logger = InvocationLogger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def correlation_id() -> str | None:
    """The current invocation's correlation id (the API's request id while a request is handled)."""
    return logger.get_correlation_id()


def logged_invocation(correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
    """Decorate a `(event, context)` handler: a clean logger state for each invocation, then Powertools'
    `inject_lambda_context` (this function's name, memory, ARN and request id; cold start) and the
    correlation id at `correlation_id_path` in the event, else the Lambda request id.

    `clear_state=True` is not used on purpose: Powertools would put the Lambda context into the keys shared
    by every thread; here it goes into the thread's own (see the module's docstring)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def correlated(event: Any, context: Any) -> Any:
            if logger.get_correlation_id() is None:  # e.g. a TOKEN authorizer's event has no request id
                logger.set_correlation_id(getattr(context, "aws_request_id", None))
            return handler(event, context)

        injected = logger.inject_lambda_context(correlated, correlation_id_path=correlation_id_path)

        @functools.wraps(handler)
        def invocation(event: Any, context: Any) -> Any:
            logger.thread_safe_clear_keys()  # nothing from the previous invocation on this thread
            return injected(event, context)

        return invocation

    return decorate


def observed(correlation_id_path: str, *, emits_metrics: bool = True) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: traced (X-Ray, in Lambda), JSON logs with the Lambda context and a
    correlation id (`logged_invocation`), metrics flushed."""

    def decorate(handler: Handler) -> Handler:
        traced = tracer.capture_lambda_handler(handler)
        logged = logged_invocation(correlation_id_path)(traced)
        return metrics.log_metrics(logged) if emits_metrics else logged

    return decorate


class _LoggedAuthorizer(ChaliceAuthorizer):
    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        authorize = functools.partial(ChaliceAuthorizer.__call__, self)
        result: dict[str, Any] = logged_invocation(API_REQUEST_ID)(authorize)(event, context)
        return result


def logged_authorizer(authorizer: ChaliceAuthorizer) -> ChaliceAuthorizer:
    """The Chalice authorizer `authorizer` (what `@app.authorizer()` returns), its invocations logged as
    `logged_invocation` does. Chalice runs authorizers outside its middleware, so they need their own wrapper.

    The correlation id is the event's `requestContext.requestId` where there is one (the local API server's
    events); a TOKEN authorizer's event in API Gateway has none, so it is the authorizer's own Lambda request
    id, which the API stage's access log records beside the API's request id (`authorizerRequestId`)."""
    logged = _LoggedAuthorizer(authorizer.name, authorizer.func, authorizer.scopes)
    logged.config = authorizer.config
    return logged
