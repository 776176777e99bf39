from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("enter", views.enter, name="enter"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("language", views.language, name="language"),
]
