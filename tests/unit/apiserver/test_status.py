"""StatusError constructors reproduce Kubernetes' messages, reasons and details."""

from __future__ import annotations

import orjson

from kybernetes.apiserver import status
from kybernetes.apiserver.status import StatusCause


def test_not_found_body() -> None:
    error = status.not_found("pods", "x")
    assert error.code == 404
    assert orjson.loads(error.response().body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "x" not found',
        "reason": "NotFound",
        "details": {"name": "x", "kind": "pods"},
        "code": 404,
    }


def test_group_qualifies_the_resource() -> None:
    error = status.already_exists("deployments", "web", "apps")
    assert (error.code, error.reason) == (409, "AlreadyExists")
    assert error.message == 'deployments.apps "web" already exists'
    assert error.details == {"name": "web", "group": "apps", "kind": "deployments"}


def test_conflict_message() -> None:
    error = status.conflict("pods", "x", "the object has been modified")
    assert (
        error.message == 'Operation cannot be fulfilled on pods "x": the object has been modified'
    )
    assert (error.code, error.reason) == (409, "Conflict")


def test_invalid_with_one_and_many_causes() -> None:
    one = status.invalid("Pod", "x", [StatusCause("FieldValueRequired", "Required value", "spec")])
    assert (one.code, one.reason) == (422, "Invalid")
    assert one.message == 'Pod "x" is invalid: spec: Required value'
    assert one.details == {
        "name": "x",
        "kind": "Pod",
        "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec"}],
    }
    many = status.invalid(
        "Deployment",
        "d",
        [
            StatusCause("FieldValueRequired", "Required value", "spec.selector"),
            StatusCause("FieldValueInvalid", "Invalid value: -1: must be >= 0", "spec.replicas"),
        ],
        group="apps",
    )
    assert many.message == (
        'Deployment.apps "d" is invalid: [spec.selector: Required value, '
        "spec.replicas: Invalid value: -1: must be >= 0]"
    )


def test_forbidden_forms() -> None:
    assert status.forbidden("pods", "x", "no").message == 'pods "x" is forbidden: no'
    assert status.forbidden("pods", "", "no").message == "pods is forbidden: no"
    assert status.forbidden("", "", "no").message == "forbidden: no"
    assert status.forbidden("", "", "no").details == {}


def test_simple_errors() -> None:
    cases = [
        (status.bad_request("bad"), 400, "BadRequest", "bad"),
        (status.unauthorized(), 401, "Unauthorized", "Unauthorized"),
        (status.gone("gone"), 410, "Gone", "gone"),
        (
            status.expired("too old resource version: 1 (5)"),
            410,
            "Expired",
            "too old resource version: 1 (5)",
        ),
        (
            status.too_large("limit is 3145728"),
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
        ),
        (
            status.unsupported_media_type(["application/json", "application/yaml"]),
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - "
            "accepted media types include: application/json, application/yaml",
        ),
        (
            status.not_acceptable(["application/json"]),
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json",
        ),
        (
            status.method_not_allowed("nodes", "create"),
            405,
            "MethodNotAllowed",
            'create is not supported on resources of kind "nodes"',
        ),
        (status.internal_error("boom"), 500, "InternalError", "Internal error occurred: boom"),
    ]
    for error, code, reason, message in cases:
        assert (error.code, error.reason, error.message) == (code, reason, message)


def test_retry_after_header() -> None:
    response = status.service_unavailable("store down", retry_after_seconds=3).response()
    assert response.status == 503
    assert response.headers["Retry-After"] == "3"
    assert orjson.loads(response.body)["details"] == {"retryAfterSeconds": 3}


def test_names_are_quoted_like_go() -> None:
    assert status.not_found("configmaps", 'a"b').message == 'configmaps "a\\"b" not found'
