"""Top-level URLs: admin, the screens, the API and the tracker endpoints."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # /api/... and /track/...: the REST API, feeds and phone-tracker endpoints.
    path("", include("coordination.api.urls")),
    # / and /forening/: the public map and the association page; /falt/, /jour/, login: staff screens.
    path("", include("coordination.urls")),
]
