"""`APIError` from Status bodies and from anything else; the `is_*` helpers."""

from __future__ import annotations

from kybernetes.client import (
    APIError,
    Expired,
    is_already_exists,
    is_conflict,
    is_expired,
    is_forbidden,
    is_invalid,
    is_not_found,
)


def status(code: int, reason: str) -> dict[str, object]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
            "reason": reason, "message": f"{reason}!", "details": {"name": "x"}}  # fmt: skip


def test_a_status_body_is_kept() -> None:
    error = APIError.from_response(404, status(404, "NotFound"), "ignored")
    assert (error.code, error.reason, error.message) == (404, "NotFound", "NotFound!")
    assert error.details == {"name": "x"}
    assert str(error) == "404 NotFound: NotFound!"
    assert is_not_found(error) and not is_conflict(error)


def test_other_bodies_become_a_status_named_by_the_code() -> None:
    error = APIError.from_response(503, None, "upstream down")
    assert (error.code, error.reason, error.message) == (503, "ServiceUnavailable", "upstream down")
    assert error.details == {}
    unknown = APIError.from_response(418, ["not", "a", "status"], "teapot")
    assert (unknown.code, unknown.reason) == (418, "")
    assert is_not_found(APIError.from_response(404, "text", "no reason: the code decides"))


def test_410_is_expired() -> None:
    for body in (status(410, "Expired"), status(410, "Gone"), None):
        error = APIError.from_response(410, body, "gone")
        assert isinstance(error, Expired) and is_expired(error)
    assert not is_expired(APIError(status(409, "Conflict")))


def test_helpers_follow_the_reason_first() -> None:
    exists = APIError(status(409, "AlreadyExists"))
    assert is_already_exists(exists) and not is_conflict(exists)
    assert is_conflict(APIError(status(409, "Conflict")))
    assert is_invalid(APIError(status(422, "Invalid")))
    assert is_forbidden(APIError(status(403, "Forbidden")))
    assert not is_not_found(APIError(status(404, "SomethingElse")))
    assert not is_not_found(ValueError("not an API error"))
