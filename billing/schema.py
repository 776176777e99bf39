"""Additions to the OpenAPI schema that hold for every operation."""

from http import HTTPStatus

from billing import problems


def document_not_acceptable(result, generator, request, public):
    """drf-spectacular post-processing hook: any operation answers 406 (problem+json) to an Accept header
    that allows no media type it can give, so every operation says so."""
    answer = {
        "description": HTTPStatus.NOT_ACCEPTABLE.phrase,
        "content": {problems.CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("406", answer)
    return result
