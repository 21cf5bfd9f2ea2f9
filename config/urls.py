"""Top-level URLs: admin, the screens, the API and the tracker endpoints."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # The pages' JavaScript text in the reader's language (locale/*/LC_MESSAGES/djangojs.po).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # The admin signs in through Närvaro's own sign-in, with its lockout and second factor.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    # /api/... and /track/...: the REST API, feeds and phone-tracker endpoints.
    path("", include("coordination.api.urls")),
    path("open311/v2/", include("coordination.open311")),  # Open311 GeoReport v2 (citizen reports)
    # / and /forening/: the public map and the association page; /falt/, /jour/, login: staff screens.
    path("", include("coordination.urls")),
]
