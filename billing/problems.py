"""Errors as RFC 9457 problem details (``application/problem+json``), for every answer under /api/.

``exception_handler`` is DRF's EXCEPTION_HANDLER; ``api_bad_request``, ``api_page_not_found`` and
``api_server_error`` are the project's handler400/404/500, answering problems for /api/ paths and Django's
pages elsewhere. Each problem type has a stable ``type`` URI (``/api/problems/<slug>``) that the API also
serves, described.

Apps whose ``BillingError`` codes reach the API register them with ``register_problem`` (slug = the code
with ``_`` replaced by ``-``), so their ``type`` URI describes them and their status is set in one place.
"""

import json
import logging
import math
import sys
from dataclasses import dataclass
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.template import loader
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import set_rollback

from billing.errors import BillingError
from billing.parsers import NestedTooDeep

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
API_PATH_PREFIX = "/api/"
DATABASE_RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class ProblemType:
    """A kind of error the API answers; ``title`` is the same for every occurrence, ``detail`` varies."""

    slug: str
    status: int
    title: str | Promise
    description: str | Promise

    @property
    def type(self) -> str:
        return f"/api/problems/{self.slug}"


PROBLEM_TYPES: dict[str, ProblemType] = {}


def register_problem(
    slug: str, *, status: int, title: str | Promise, description: str | Promise
) -> ProblemType:
    problem = ProblemType(slug=slug, status=status, title=title, description=description)
    PROBLEM_TYPES[slug] = problem
    return problem


MALFORMED_REQUEST = register_problem(
    "malformed-request",
    status=400,
    title=_("Malformed request"),
    description=_("The request body could not be parsed, for example because it is not valid JSON."),
)
NESTED_TOO_DEEP = register_problem(
    "nested-too-deep",
    status=400,
    title=_("JSON nested too deeply"),
    description=_(
        "The JSON body nests arrays or objects deeper than any operation reads (32 levels unless the "
        "deployment sets API_JSON_MAX_DEPTH); send the documented body."
    ),
)
REQUEST_TOO_LARGE = register_problem(
    "request-too-large",
    status=413,
    title=_("Request body too large"),
    description=_(
        "The request body is larger than the server reads (2.5 MB unless the deployment sets "
        "REQUEST_BODY_MAX_BYTES); send less in one request."
    ),
)
UNAUTHENTICATED = register_problem(
    "unauthenticated",
    status=401,
    title=_("Authentication required"),
    description=_(
        "The request carries no API key, or the key is unknown, malformed, revoked or expired; "
        "send “Authorization: Bearer <API key>”."
    ),
)
FORBIDDEN = register_problem(
    "forbidden",
    status=403,
    title=_("Forbidden"),
    description=_("The API key is valid but lacks a scope this operation needs."),
)
NOT_FOUND = register_problem(
    "not-found",
    status=404,
    title=_("Not found"),
    description=_("Nothing exists at this URL, or the object it names does not exist."),
)
METHOD_NOT_ALLOWED = register_problem(
    "method-not-allowed",
    status=405,
    title=_("Method not allowed"),
    description=_("This URL does not accept the HTTP method; the Allow header lists those it does."),
)
NOT_ACCEPTABLE = register_problem(
    "not-acceptable",
    status=406,
    title=_("Not acceptable"),
    description=_("The API cannot answer in any media type the Accept header allows; ask for JSON."),
)
UNSUPPORTED_MEDIA_TYPE = register_problem(
    "unsupported-media-type",
    status=415,
    title=_("Unsupported media type"),
    description=_("The request body is in a media type this operation does not read; send application/json."),
)
VALIDATION_ERROR = register_problem(
    "validation-error",
    status=422,
    title=_("Invalid request"),
    description=_(
        "Some fields are missing or invalid; “errors” maps each field (nested fields by dotted name) "
        "to its messages."
    ),
)
TOO_MANY_REQUESTS = register_problem(
    "too-many-requests",
    status=429,
    title=_("Too many requests"),
    description=_("The client has sent too many requests; retry after the seconds given in Retry-After."),
)
INTERNAL_ERROR = register_problem(
    "internal-error",
    status=500,
    title=_("Internal error"),
    description=_(
        "The server failed unexpectedly and has logged the failure; retry later or tell the vendor."
    ),
)
SERVICE_UNAVAILABLE = register_problem(
    "service-unavailable",
    status=503,
    title=_("Service unavailable"),
    description=_("The database is unavailable for a moment; retry after the seconds given in Retry-After."),
)
BUSINESS_RULE_TITLE = _("Refused by a business rule")

# Which problem an APIException answers, by its status (the status, not the class, since DRF turns a
# NotAuthenticated into a 403 when the view has no authentication scheme to name).
_PROBLEM_BY_STATUS = {
    problem.status: problem
    for problem in (
        MALFORMED_REQUEST,
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        NOT_ACCEPTABLE,
        UNSUPPORTED_MEDIA_TYPE,
        TOO_MANY_REQUESTS,
        INTERNAL_ERROR,
        SERVICE_UNAVAILABLE,
    )
}


def problem_response(
    problem: ProblemType | None,
    *,
    detail: str | Promise,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    **members,
) -> HttpResponse:
    """The problem+json answer. A plain HttpResponse, so that a view's own renderers (CSV, PDF) never
    render an error; ``problem=None`` is RFC 9457's ``about:blank``, titled by the HTTP status."""
    status = status or problem.status
    body = {
        "type": problem.type if problem else "about:blank",
        "title": problem.title if problem else HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **members,
    }
    return HttpResponse(
        json.dumps(body, cls=JSONEncoder, ensure_ascii=False),
        status=status,
        content_type=CONTENT_TYPE,
        headers=headers,
    )


def flatten_errors(detail) -> dict[str, list[str]]:
    """Serializer errors as ``{"field": [...], "lines.0.quantity": [...]}``; errors that belong to no
    field are under DRF's NON_FIELD_ERRORS_KEY."""
    flat: dict[str, list[str]] = {}

    def walk(node, name: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{name}.{key}" if name else str(key))
        elif isinstance(node, list | tuple):
            for index, child in enumerate(node):
                if isinstance(child, str):  # a message about `name` itself
                    walk(child, name)
                else:  # the errors of item `index` of a list field
                    walk(child, f"{name}.{index}" if name else str(index))
        else:
            flat.setdefault(name or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(node))

    walk(detail, "")
    return flat


def exception_handler(exc: Exception, context: dict) -> HttpResponse:
    """DRF's EXCEPTION_HANDLER: every exception raised in an API view becomes a problem."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    set_rollback()

    if isinstance(exc, BillingError):
        return _business_rule_problem(exc)
    if isinstance(exc, RequestDataTooBig):
        return request_too_large(context["request"])
    if isinstance(exc, NestedTooDeep):
        _log_hostile_body(context["request"], "JSON nested too deeply")
        return problem_response(NESTED_TOO_DEEP, detail=str(exc.detail))
    if isinstance(exc, SuspiciousOperation):  # too many fields, a malformed multipart body
        _log_hostile_body(context["request"], type(exc).__name__)
        return problem_response(MALFORMED_REQUEST, detail=_("The request could not be read."))
    if isinstance(exc, exceptions.ValidationError):
        return problem_response(
            VALIDATION_ERROR,
            detail=_("Some fields are missing or invalid."),
            errors=flatten_errors(exc.detail),
        )
    if isinstance(exc, exceptions.APIException):
        return _api_exception_problem(exc, context)
    request = context.get("request")
    where = f"{request.method} {request.path}" if request else "an API view"
    if isinstance(exc, DataError):  # a value the database refuses (too long, a NUL byte): the client's fault
        logger.info("Database refused a value while answering %s: %s", where, exc)
        return problem_response(
            MALFORMED_REQUEST, detail=_("A value in the request is too long or not allowed here.")
        )
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("Database unavailable while answering %s", where, exc_info=exc)
        return problem_response(
            SERVICE_UNAVAILABLE,
            detail=_("The database is unavailable; retry in a few seconds."),
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    logger.error("Unhandled exception while answering %s", where, exc_info=exc)
    return problem_response(INTERNAL_ERROR, detail=_("The server failed to answer; the failure is logged."))


def _log_hostile_body(request: HttpRequest, what: str) -> None:
    logger.warning(
        "%s: %s %s refused (Content-Length %s)",
        what,
        request.method,
        request.path,
        request.META.get("CONTENT_LENGTH") or "none",
    )


def request_too_large(request: HttpRequest) -> HttpResponse:
    """413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE: problem+json for the API, a page elsewhere."""
    _log_hostile_body(request, f"Body over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
    if _is_api(request):
        return problem_response(
            REQUEST_TOO_LARGE,
            detail=_("The request body is larger than %(limit)s bytes.")
            % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
        )
    page = loader.render_to_string("413.html", {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    return HttpResponse(page, status=413)


def _business_rule_problem(exc: BillingError) -> HttpResponse:
    slug = exc.code.replace("_", "-")
    registered = PROBLEM_TYPES.get(slug)
    status = getattr(exc, "status", None) or (registered.status if registered else 422)
    return problem_response(
        ProblemType(
            slug=slug,
            status=status,
            title=registered.title if registered else BUSINESS_RULE_TITLE,
            description="",
        ),
        detail=str(exc),
        code=exc.code,
    )


def _api_exception_problem(exc: exceptions.APIException, context: dict) -> HttpResponse:
    headers = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if (wait := getattr(exc, "wait", None)) is not None:
        headers["Retry-After"] = str(math.ceil(wait))
    if exc.status_code >= 500:
        request = context.get("request")
        logger.error("API error %s answering %s", exc.status_code, request and request.path, exc_info=exc)
    return problem_response(
        _PROBLEM_BY_STATUS.get(exc.status_code),
        detail=str(exc.detail),
        status=exc.status_code,
        headers=headers,
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PATH_PREFIX)


def api_page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a problem for /api/ URLs that match nothing, Django's page elsewhere."""
    if _is_api(request):
        return problem_response(NOT_FOUND, detail=_("No API resource has this URL."))
    return defaults.page_not_found(request, exception)


def api_bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400, for what Django refuses before a view runs (a page's form read by the CSRF check): a
    body over the configured size is a 413, anything else a problem for /api/ URLs and Django's page
    elsewhere."""
    if isinstance(exception, RequestDataTooBig):
        return request_too_large(request)
    if _is_api(request):
        return problem_response(MALFORMED_REQUEST, detail=_("The request could not be read."))
    return defaults.bad_request(request, exception)


def api_server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a problem for /api/ URLs, Django's page elsewhere. Django has already logged the error.

    A database that cannot be reached (raised anywhere: a middleware reading the session, a view) is a 503
    with Retry-After, not a 500: the client should simply retry, and the next request reconnects."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        return database_unavailable(request)
    if _is_api(request):
        return problem_response(
            INTERNAL_ERROR, detail=_("The server failed to answer; the failure is logged.")
        )
    return defaults.server_error(request)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 for a database that cannot be reached: problem+json for the API, a page (that reads nothing
    from the database) elsewhere."""
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if _is_api(request):
        return problem_response(
            SERVICE_UNAVAILABLE,
            detail=_("The database is unavailable; retry in a few seconds."),
            headers=headers,
        )
    page = loader.render_to_string("503.html", {"retry_after": DATABASE_RETRY_AFTER_SECONDS})
    return HttpResponse(page, status=503, headers=headers)
