"""API views every client shares: who am I (``/api/v1/me``) and what a problem type means
(``/api/problems/<slug>``); and the schema pieces other apps reuse to describe their error answers."""

from http import HTTPStatus

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import problems


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem, for the schema: ``extend_schema(responses={..., **problem_responses(404)})``."""

    type = serializers.CharField(help_text="Identifies the problem type; GET it for a description.")
    title = serializers.CharField(help_text="Short summary of the problem type, in the request's language.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong in this request, for people.")
    code = serializers.CharField(
        required=False, help_text="For refused business rules: the stable code, for machines."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For validation errors: messages by field, nested fields by dotted name.",
    )


def problem_responses(*statuses: int) -> dict[tuple[int, str], OpenApiResponse]:
    """Schema entries for these error statuses, answered as application/problem+json."""
    return {
        (status, problems.CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=HTTPStatus(status).phrase
        )
        for status in statuses
    }


class TextInput(serializers.CharField):
    """A JSON string, and nothing else: DRF's CharField would also read numbers, which the schema does not
    allow, so a client could send what the schema calls invalid and be answered as if it were valid."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TicketInput(serializers.CharField):
    """A ticket reference: text, or a whole number (many ticketing tools number their tickets)."""

    def to_internal_value(self, data):
        if not isinstance(data, str | int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class FlagInput(serializers.BooleanField):
    """JSON true or false only (DRF also reads 0, 1, "yes" and more, which the schema does not allow)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class DecimalInput(serializers.DecimalField):
    """A decimal read from a JSON string ("1.50") or number (1.5), as the schema says."""


class TicketInputScheme(OpenApiSerializerFieldExtension):
    target_class = TicketInput

    def map_serializer_field(self, auto_schema, direction):
        as_text = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {"oneOf": [as_text, {"type": "integer"}]}


class DecimalInputScheme(OpenApiSerializerFieldExtension):
    target_class = DecimalInput

    def map_serializer_field(self, auto_schema, direction):
        as_text = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        as_number = {"type": "number"}
        if self.target.min_value is not None:
            as_number["minimum"] = float(self.target.min_value)
        return {"oneOf": [{k: v for k, v in as_text.items() if k not in ("minimum", "maximum")}, as_number]}


class ProblemTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    description = serializers.CharField()


class ProblemTypeView(APIView):
    """What a problem type URI means; public, so that error answers can be followed without a key."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="problem_type",
        description="Describes the problem type whose `type` URI an error answer carries. Needs no key.",
        responses={200: ProblemTypeSerializer, **problem_responses(404)},
        tags=["problems"],
    )
    def get(self, request, slug: str):
        problem = problems.PROBLEM_TYPES.get(slug)
        if problem is None:
            raise NotFound(_("No problem type is called “%(slug)s”.") % {"slug": slug})
        return Response(ProblemTypeSerializer(problem).data)


class ApiKeyInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True)


class MeView(APIView):
    """The calling key's name, prefix, scopes and expiry, so that an integrator can check a key."""

    required_scopes = []

    @extend_schema(
        operation_id="me",
        description="The calling API key's name, prefix, scopes and expiry. Any valid key may call it.",
        responses={200: ApiKeyInfoSerializer, **problem_responses(401)},
    )
    def get(self, request):
        return Response(ApiKeyInfoSerializer(request.auth).data)
