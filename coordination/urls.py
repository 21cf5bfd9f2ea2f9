"""The screens: the public map, the association page, landing, field page (with its PWA files), duty map,
the EST situation picture (lägesbild), login."""

from django.contrib.auth import views as auth_views
from django.urls import path

from coordination import account_views, activity_views, dialogue_views, est_views, lagesbild_views, views

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
    path("lagesbild/", lagesbild_views.lagesbild, name="lagesbild"),
    path("lagesbild/<int:year>/v<int:week>/", lagesbild_views.lagesbild_week, name="lagesbild_week"),
    path("lagesbild/<int:year>/v<int:week>/niva/", lagesbild_views.lagesbild_override, name="lagesbild_override"),
    path("lagesbild/<int:year>/<int:month>/", lagesbild_views.lagesbild_month, name="lagesbild_month"),
    # EST decisions of a week (coordination/est_views.py); the week's picture is /lagesbild/<year>/v<week>/.
    path("lagesbild/beslut/", est_views.est_decisions_now, name="est_decisions_now"),
    path("lagesbild/<int:year>/v<int:week>/beslut/", est_views.est_decisions, name="est_decisions"),
    path(
        "lagesbild/<int:year>/v<int:week>/beslut/<int:pk>/aterkalla/",
        est_views.est_decision_withdraw,
        name="est_decision_withdraw",
    ),
    path("tips/", dialogue_views.tips_form, name="tips"),
    path("tips/status/<str:token>/", dialogue_views.tips_status, name="tips_status"),
    path("tips/publicerade.json", dialogue_views.tips_published, name="tips_published"),
    path("jour/tips/", dialogue_views.queue_page, name="tips_queue"),
    path("jour/tips.json", dialogue_views.queue_json, name="tips_queue_json"),
    path("jour/tips/<int:pk>/foto/", dialogue_views.report_photo, name="tips_photo"),
    path("jour/tips/<int:pk>/<slug:action>/", dialogue_views.report_action, name="tips_action"),
    path("falt/koppla/", account_views.devices, name="devices"),
    path("konto/personer/<int:user_id>/enheter/", account_views.devices, name="person_devices"),
    path("konto/enheter/<int:pk>/aterkalla/", account_views.device_revoke, name="device_revoke"),
    path("konto/logga-in/", account_views.SignInView.as_view(), name="login"),
    path("konto/inbjudan/<str:token>/", account_views.invitation, name="invitation"),
    path("konto/tvafaktor/", account_views.otp_verify, name="otp_verify"),
    path("konto/tvafaktor/ny/", account_views.otp_enrol, name="otp_enrol"),
    path("konto/tvafaktor/reservkoder/", account_views.otp_recovery, name="otp_recovery"),
    path("konto/logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail (Django's views, audited; the link expires after PASSWORD_RESET_TIMEOUT).
    path("konto/losenord/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path("konto/losenord/skickat/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "konto/losenord/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("konto/losenord/klart/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
