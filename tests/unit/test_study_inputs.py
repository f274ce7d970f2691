"""Hostile values in study request bodies (chalicelib/studies/content.py): every one is a 400 naming the
field, never an exception the route turns into a 500."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.errors import BadRequest
from chalicelib.studies import content


@pytest.mark.parametrize(
    "value", [10**400, -(10**400), float("inf"), float("nan"), "1.5", None, [1], {}, True]
)
def test_a_duration_or_offset_that_is_no_finite_number_is_a_400(value: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        content.seconds({"offset": value}, "offset", -10.0, 10.0, low_inclusive=True)
    assert caught.value.code == "invalid_field"


def test_a_content_duration_too_large_for_a_float_is_a_400() -> None:
    body = {"filename": "a.mp4", "content_type": "video/mp4", "size": 10, "duration": 10**400}
    with pytest.raises(BadRequest) as caught:
        content.parse(body, 1000, 600.0)
    assert caught.value.code == "invalid_field"
