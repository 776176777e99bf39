from django.shortcuts import render


def home(request):
    """What the product is, with the way in for staff."""
    return render(request, "home.html")
