"""Parsing of request bodies and parameters: typed values out, `BadRequest` naming the field otherwise.

Only plain JSON scalars of the expected type are accepted, so an operator object such as
`{"email": {"$ne": null}}` is refused here, long before it could reach a MongoDB query.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.errors import BadRequest


def json_object(raw: bytes | str | None) -> dict[str, Any]:
    """The request body as a JSON object."""
    if not raw:
        raise BadRequest("the request body must be a JSON object")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request body is not valid JSON ({exc})") from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    if not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object")
    return value


def string(body: dict[str, Any], name: str, *, required: bool = True, max_length: int = 256) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"'{name}' is required", code="invalid_field")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string", code="invalid_field")
    if len(value) > max_length:
        raise BadRequest(f"'{name}' is longer than {max_length} characters", code="invalid_field")
    if not _encodable(value):
        raise BadRequest(f"'{name}' is not valid Unicode (a lone surrogate)", code="invalid_field")
    return value


def _encodable(value: str) -> bool:
    """JSON allows lone surrogates (`"\\ud800"`); UTF-8, MongoDB, Redis and argon2 do not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def required_string(body: dict[str, Any], name: str, *, max_length: int = 256) -> str:
    value = string(body, name, max_length=max_length)
    assert value is not None
    if not value.strip():
        raise BadRequest(f"'{name}' must not be empty", code="invalid_field")
    return value


def integer(body: dict[str, Any], name: str, *, minimum: int = 0) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{name}' must be an integer", code="invalid_field")
    if value < minimum:
        raise BadRequest(f"'{name}' must be at least {minimum}", code="invalid_field")
    return value


def query_int(params: dict[str, str] | None, name: str, default: int, lo: int, hi: int) -> int:
    raw = (params or {}).get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be an integer", code="invalid_parameter") from None
    if not lo <= value <= hi:
        raise BadRequest(f"'{name}' must be between {lo} and {hi}", code="invalid_parameter")
    return value
