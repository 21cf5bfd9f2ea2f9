"""The screens: the public map, the association page, landing, field page (with its PWA files), duty map, login."""

from django.contrib.auth import views as auth_views
from django.urls import path

from coordination import activity_views, views

urlpatterns = [
    path("", activity_views.public_map, name="public"),
    path("lage.json", activity_views.public_snapshot, name="public_snapshot"),
    path("forening/", activity_views.association, name="association"),
    path("forening/<int:pk>/", activity_views.activity_edit, name="activity_edit"),
    path("forening/<int:pk>/tillfalle/", activity_views.activity_occasion, name="activity_occasion"),
    path("forening/<int:pk>/<slug:action>/", activity_views.activity_status, name="activity_status"),
    path("start/", views.home, name="home"),
    path("falt/", views.field, name="field"),
    path("falt/sw.js", views.field_service_worker, name="field_sw"),
    path("falt/manifest.webmanifest", views.field_manifest, name="field_manifest"),
    path("jour/", views.ops, name="ops"),
    path("konto/logga-in/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("konto/logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
]
