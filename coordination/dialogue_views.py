"""Citizen dialogue screens: the public report form and status link, the moderators' queue.

Writes go through coordination.services.dialogue; rules live in coordination.access.
"""

import json

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from coordination import access, services
from coordination.errors import ServiceError
from coordination.models import CitizenReport, ReportCategory, ReportWhen
from coordination.selectors.dialogue import (
    published_counts,
    published_reports,
    report_moderation_payload,
    report_queue,
)
from coordination.services.dialogue import REPORT_TEXT_MAX, report_for_token
from coordination.views import page_context
from maps.models import Area


class ReportForm(forms.Form):
    """The public form; the service validates again (it is the one rule book)."""

    lat = forms.FloatField(widget=forms.HiddenInput, required=False)
    lon = forms.FloatField(widget=forms.HiddenInput, required=False)
    category = forms.ChoiceField(label=_("Vad gäller det?"), choices=[("", _("Välj …")), *ReportCategory.choices])
    when = forms.ChoiceField(
        label=_("När?"), choices=ReportWhen.choices, initial=ReportWhen.EVENINGS, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("Berätta om platsen"),
        max_length=REPORT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Skriv om platsen och situationen, aldrig namn, personnummer eller telefonnummer."),
    )
    photo = forms.FileField(
        label=_("Foto (valfritt)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG, PNG eller WebP, högst 5 MB. Plats- och kamerauppgifter i bilden tas bort."),
    )
    email = forms.EmailField(
        label=_("E-post för svar (valfritt)"),
        required=False,
        help_text=_("Visas aldrig och raderas med rapporten."),
    )
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by bots that fill in everything.
    website = forms.CharField(label=_("Lämna tomt"), required=False)


def _client_address(request: HttpRequest) -> str:
    """The sender's address, for the rate limit.

    Behind the TLS proxy (BEHIND_TLS_PROXY=1) the peer is Caddy, which replaces any X-Forwarded-For
    a client sent with the client's address; without it the header is the client's to forge.
    """
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


@never_cache
def tips_form(request: HttpRequest) -> HttpResponse:
    """The public report form (no login); on success the private status link."""
    viewer = access.viewer_for(request.user)
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report, token = services.report_submit(
                category=data["category"],
                when=data["when"],
                text=data["text"],
                lat=data["lat"],
                lon=data["lon"],
                email=data["email"] or "",
                photo=data["photo"],
                honeypot=data["website"],
                source=_client_address(request),
                language=(get_language() or "sv")[:2],
            )
        except ServiceError as error:
            field = {"lon": "lat"}.get(error.field, error.field)
            form.add_error(field if field in form.fields and field != "lat" else None, error.message)
        else:
            context = {**page_context(request, viewer, current="tips"), "token": token, "report": report}
            return render(request, "dialogue/thanks.html", context)
    return render(request, "dialogue/form.html", {**page_context(request, viewer, current="tips"), "form": form})


@never_cache
@require_GET
def tips_status(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter's private page: status and the municipality's answer; 404 for any other token."""
    try:
        report = report_for_token(token)
    except ServiceError:
        raise Http404 from None
    context = {**page_context(request, access.viewer_for(request.user), current="tips"), "report": report}
    response = render(request, "dialogue/status.html", context)
    response["Referrer-Policy"] = "no-referrer"  # the token must not leave in a Referer header
    return response


@never_cache
@require_GET
def tips_published(request: HttpRequest) -> JsonResponse:
    """Published reports for the public map: counts per area and category, and each with its answer."""
    categories = [[value, str(label)] for value, label in ReportCategory.choices]
    return JsonResponse({"counts": published_counts(), "reports": published_reports(), "categories": categories})


# --- moderation -------------------------------------------------------------------------------------


def _moderator(request: HttpRequest) -> access.Viewer:
    viewer = access.viewer_for(request.user)
    if not access.may_moderate_reports(viewer):
        raise PermissionDenied
    return viewer


def _filters(request: HttpRequest) -> dict:
    area = request.GET.get("area", "")
    return {
        "status": request.GET.get("status", "") if request.GET.get("status") in CitizenReport.Status.values else "",
        "category": request.GET.get("category", "") if request.GET.get("category") in ReportCategory.values else "",
        "area_id": int(area) if area.isascii() and area.isdigit() and len(area) < 12 else None,
        "include_done": request.GET.get("done") == "1",
    }


def _queue(request: HttpRequest) -> list[dict]:
    """The filtered queue, its read written to the audit log."""
    filters = _filters(request)
    services.audit_record(user=request.user, action="dialogue_queue_read", detail=filters)
    return [report_moderation_payload(r) for r in report_queue(**filters)]


@never_cache
@login_required
def queue_page(request: HttpRequest) -> HttpResponse:
    """The moderation queue for duty, dialogue officers and admins."""
    viewer = _moderator(request)
    config = {
        "reports": _queue(request),
        "user": viewer.user_id,
        "can_note": access.may_write_note(viewer),
        "categories": [[v, str(label)] for v, label in ReportCategory.choices],
        "whens": [[v, str(label)] for v, label in ReportWhen.choices],
        "statuses": [[v, str(label)] for v, label in CitizenReport.Status.choices],
    }
    context = {
        **page_context(request, viewer, current="tips_queue"),
        "config": config,
        "filters": _filters(request),
        "categories": ReportCategory.choices,
        "statuses": CitizenReport.Status.choices,
        "areas": Area.objects.exclude(kind=Area.Kind.MUNICIPALITY),
    }
    return render(request, "dialogue/queue.html", context)


@never_cache
@require_GET
def queue_json(request: HttpRequest) -> JsonResponse:
    """The queue as JSON (the duty page's list and the queue page's refresh); audited like the page."""
    if not request.user.is_authenticated:
        return JsonResponse({"code": "unauthenticated", "message": "sign in"}, status=401)
    _moderator(request)
    return JsonResponse({"reports": _queue(request)})


ACTIONS = {
    "take": lambda user, pk, body: services.report_take(user=user, report_id=pk),
    "release": lambda user, pk, body: services.report_release(user=user, report_id=pk),
    "publish": lambda user, pk, body: services.report_publish(user=user, report_id=pk, level=body.get("level", "area")),
    "reject": lambda user, pk, body: services.report_reject(user=user, report_id=pk, reason=body.get("reason")),
    "answer": lambda user, pk, body: services.report_answer(user=user, report_id=pk, answer=body.get("answer")),
    "close": lambda user, pk, body: services.report_close(user=user, report_id=pk),
    "note": lambda user, pk, body: services.report_to_note(user=user, report_id=pk),
    "hotspot": lambda user, pk, body: services.report_mark_hotspot(user=user, report_id=pk),
}


@require_POST
def report_action(request: HttpRequest, pk: int, action: str) -> JsonResponse:
    """One moderation step (JSON body); answers the report as moderators see it, or {code, message}."""
    if not request.user.is_authenticated:
        return JsonResponse({"code": "unauthenticated", "message": "sign in"}, status=401)
    if action not in ACTIONS:
        raise Http404
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return JsonResponse({"code": "invalid", "message": "JSON object expected"}, status=400)
    try:
        event = ACTIONS[action](request.user, pk, body)
    except ServiceError as error:
        return JsonResponse({"code": error.code, "message": error.message, "field": error.field}, status=error.status)
    return JsonResponse({"seq": event.seq, "report": event.data})


@never_cache
@login_required
def report_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A report's photo, to its moderators only (never a public URL); each look audited."""
    _moderator(request)
    report = CitizenReport.objects.filter(pk=pk).exclude(photo="").first()
    if report is None:
        raise Http404
    services.audit_record(user=request.user, action="dialogue_photo_read", detail={"report": pk})
    response = FileResponse(report.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
