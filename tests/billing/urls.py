"""The project's URLs plus views that exist only to exercise API keys and problem answers."""

from django.db import OperationalError
from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.errors import BillingError
from billing.urls import handler404, handler500
from billing.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


class ScopedView(APIView):
    required_scopes = {"GET": ["entitlements:read"], "POST": ["entitlements:read", "charges:write"]}

    def get(self, request):
        return Response({"client": request.user.name})

    def post(self, request):
        return Response({"client": request.user.name})


class UndeclaredScopesView(APIView):
    def get(self, request):
        return Response({})


class MisspelledScopeView(APIView):
    required_scopes = ["entitlement:read"]

    def get(self, request):
        return Response({})


class LineSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class ChargeRequestSerializer(serializers.Serializer):
    reason = serializers.CharField()
    lines = LineSerializer(many=True)


class ChargeRequestView(APIView):
    required_scopes = ["charges:write"]

    def post(self, request):
        ChargeRequestSerializer(data=request.data).is_valid(raise_exception=True)
        return Response(status=201)


class OpenView(APIView):
    """Fails in the way its ``failure`` argument names."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request, failure):
        if failure == "business-rule":
            raise BillingError(
                "Quota of %(days)s days used up.", code="test_rule_refused", params={"days": 5}
            )
        if failure == "conflict":
            error = BillingError("Already invoiced.", code="already_invoiced")
            error.status = 409
            raise error
        if failure == "throttled":
            raise Throttled(wait=12.2)
        if failure == "missing-object":
            raise Http404("No such contract.")
        if failure == "database":
            raise OperationalError("connection to server at 10.0.0.5 refused")
        raise RuntimeError("secret internals")


def plain_django_view(request):
    raise RuntimeError("secret internals")


urlpatterns = [
    *project_urlpatterns,
    path("api/test/scoped", ScopedView.as_view()),
    path("api/test/undeclared", UndeclaredScopesView.as_view()),
    path("api/test/misspelled", MisspelledScopeView.as_view()),
    path("api/test/charges", ChargeRequestView.as_view()),
    path("api/test/fail/<slug:failure>", OpenView.as_view()),
    path("api/test/plain", plain_django_view),
    path("test/plain", plain_django_view),
]
