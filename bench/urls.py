from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from billing.urls import urlpatterns as billing_urlpatterns


@csrf_exempt
def bare(request):
    """The baseline: Django's request cycle and a JSON answer, no database, no DRF."""
    return JsonResponse({"outcome": "included"})


urlpatterns = [path("bench/bare", bare), *billing_urlpatterns]
