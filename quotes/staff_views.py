"""Staff pages of quotes and renewals."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.utils import timezone

from quotes.selectors import renewal_pipeline


@login_required
@permission_required("quotes.view_quote", raise_exception=True)
def pipeline(request):
    """Periods ending month by month with their fee, status and renewal quote."""
    months = renewal_pipeline(today=timezone.localdate())
    return render(request, "quotes/pipeline.html", {"months": months})
