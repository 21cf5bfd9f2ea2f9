"""The staff screens: landing, field page (with its PWA files), duty map, login and logout."""

from django.contrib.auth import views as auth_views
from django.urls import path

from coordination import views

urlpatterns = [
    path("start/", views.home, name="home"),
    path("falt/", views.field, name="field"),
    path("falt/sw.js", views.field_service_worker, name="field_sw"),
    path("falt/manifest.webmanifest", views.field_manifest, name="field_manifest"),
    path("jour/", views.ops, name="ops"),
    path("konto/logga-in/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("konto/logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
]
