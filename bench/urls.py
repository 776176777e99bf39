from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.urls import urlpatterns as billing_urlpatterns


@csrf_exempt
def bare(request):
    """The baseline: Django's request cycle and a JSON answer, no database, no DRF."""
    return JsonResponse({"outcome": "included"})


class DrfFloor(APIView):
    """What DRF alone costs a check: the same key authentication and scope, the JSON body parsed, a
    constant answer rendered (no validation, no query, no decision)."""

    required_scopes = ["entitlements:read"]

    def post(self, request):
        request.data  # noqa: B018  (parsed, as the check parses it)
        return Response({"outcome": "included"})


urlpatterns = [path("bench/bare", bare), path("bench/drf", DrfFloor.as_view()), *billing_urlpatterns]
