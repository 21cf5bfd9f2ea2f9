"""The public map and the association page."""

from django.urls import path

from maps import views

urlpatterns = [
    path("", views.public_map, name="public"),
    path("lage.json", views.public_snapshot, name="public_snapshot"),
    path("forening/", views.association, name="association"),
    path("forening/<int:pk>/", views.activity_edit, name="activity_edit"),
    path("forening/<int:pk>/<slug:action>/", views.activity_status, name="activity_status"),
]
