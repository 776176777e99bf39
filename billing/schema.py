"""Additions to the OpenAPI schema that hold for every operation."""

from http import HTTPStatus

from billing import problems


def _problem_answer(status: HTTPStatus) -> dict:
    return {
        "description": status.phrase,
        "content": {problems.CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _operations(result):
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "responses" in operation:
                yield operation


def document_not_acceptable(result, generator, request, public):
    """drf-spectacular post-processing hook: any operation answers 406 (problem+json) to an Accept header
    that allows no media type it can give, so every operation says so."""
    for operation in _operations(result):
        operation["responses"].setdefault("406", _problem_answer(HTTPStatus.NOT_ACCEPTABLE))
    return result


def document_request_too_large(result, generator, request, public):
    """drf-spectacular post-processing hook: any operation that reads a body answers 413 to a body over
    the configured size and 400 to one it cannot parse (JSON nested too deeply included)."""
    for operation in _operations(result):
        if "requestBody" in operation:
            operation["responses"].setdefault("400", _problem_answer(HTTPStatus.BAD_REQUEST))
            operation["responses"].setdefault("413", _problem_answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE))
    return result
