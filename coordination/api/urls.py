"""URLs of the REST API, the activity feeds and the phone-tracker endpoints."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from coordination import est_views
from coordination.api import activities, errors, feeds, owntracks, tracker, views

urlpatterns = [
    path("api/snapshot/", views.SnapshotView.as_view(), name="api-snapshot"),
    path("api/events/", views.EventsView.as_view(), name="api-events"),
    path("api/activities.geojson", feeds.ActivitiesGeoJSONView.as_view(), name="api-activities-geojson"),
    path("api/activities.ics", feeds.ActivitiesICalendarView.as_view(), name="api-activities-ics"),
    path("api/notes/", views.NotesView.as_view(), name="api-notes"),
    path("api/notes/<int:pk>/acknowledge/", views.NoteAcknowledgeView.as_view(), name="api-note-acknowledge"),
    path("api/alerts/", views.AlertsView.as_view(), name="api-alerts"),
    path("api/alerts/<int:pk>/acknowledge/", views.AlertAcknowledgeView.as_view(), name="api-alert-acknowledge"),
    path("api/alerts/<int:pk>/resolve/", views.AlertResolveView.as_view(), name="api-alert-resolve"),
    path("api/chat/", views.ChatView.as_view(), name="api-chat"),
    path("api/activities/", activities.ActivitiesView.as_view(), name="api-activities"),
    path("api/activities/<int:pk>/", activities.ActivityView.as_view(), name="api-activity"),
    path("api/activities/<int:pk>/open/", activities.ActivityOpenView.as_view(), name="api-activity-open"),
    path("api/activities/<int:pk>/close/", activities.ActivityCloseView.as_view(), name="api-activity-close"),
    path("api/activities/<int:pk>/cancel/", activities.ActivityCancelView.as_view(), name="api-activity-cancel"),
    path("api/reports/weekly/", views.WeeklyReportView.as_view(), name="api-report-weekly"),
    path("api/where-next/", est_views.where_next_json, name="api-where-next"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's files come from drf-spectacular-sidecar, served by the app (no CDN).
    # The split view serves its start-up script from a URL: no inline script (Content-Security-Policy).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("track/osmand/", tracker.OsmAndView.as_view(), name="track-osmand"),
    path("track/owntracks/", owntracks.OwnTracksView.as_view(), name="track-owntracks"),
    # Last: any other /api/ or /track/ address is a JSON 404, never Django's HTML page.
    re_path(r"^(?:api|track)/", errors.not_found),
]
