"""The EST situation picture (lägesbild) on screen, as a CSV zip and as a PDF: a week, a month or any range.

Every view begins with the access helper; the figures come from coordination.selectors.lagesbild (reached
through `_selector`, the one place that imports it), the level override goes through its service, and every
read or export is written to the audit log with who, what, when and from which address.
"""

import base64
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from threading import Lock
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, FloatField, Func
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from coordination import access, lagesbild_charts, lagesbild_exports
from coordination.errors import ServiceError
from coordination.lagesbild import ADULT_KINDS, LEVEL_LABELS, Level, Period, Picture, Trend
from coordination.models import NoteCategory, SituationNote
from coordination.services import audit_record
from coordination.views import page_context
from maps.models import Area

# The oldest year anyone may ask for, and the longest range: a year (a "four-month period" fits easily;
# a range of years is refused, since its picture would take long and mean little).
FIRST_YEAR = 2000
MAX_RANGE_DAYS = 366
FORMATS = ("html", "csv", "pdf")

ADULT_KIND_LABELS = {
    "field": gettext_lazy("Fältpersonal"),
    "youth_centre": gettext_lazy("Fritidsgård"),
    "night_walker": gettext_lazy("Nattvandrare"),
    "association": gettext_lazy("Föreningsledare"),
}


class BadInput(Exception):
    """A request for a picture that cannot be drawn: shown as a page with the message, never a 500."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


# --- the data helper's side --------------------------------------------------------------------------


def _selector():
    """coordination.selectors.lagesbild: periods and the picture (imported on use; tests may stand in for it)."""
    from coordination.selectors import lagesbild

    return lagesbild


def _override_level(*, actor, area_id: int, year: int, week: int, level: str, reason: str) -> None:
    """The EST group's level override, through its service (which checks access, writes and logs)."""
    from coordination.services import area_level_override

    area_level_override(actor=actor, area_id=area_id, year=year, week=week, level=level, reason=reason)


def _picture_for(period: Period, area_id: int | None) -> Picture:
    return _selector().picture(period=period, area_id=area_id)


# --- reading the request -----------------------------------------------------------------------------


def _reader(request: HttpRequest) -> access.Viewer:
    viewer = access.viewer_for(request.user)
    if not access.may_read_lagesbild(viewer):
        raise PermissionDenied
    return viewer


def _check_year(year: int) -> None:
    last = timezone.localdate().year + 1
    if not FIRST_YEAR <= year <= last:
        raise BadInput(
            _("Det finns ingen lägesbild för år %(year)s (välj ett år mellan %(first)s och %(last)s).")
            % {"year": year, "first": FIRST_YEAR, "last": last},
            status=404,
        )


def _week_period(year: int, week: int) -> Period:
    _check_year(year)
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise BadInput(_("Vecka %(week)s finns inte år %(year)s.") % {"week": week, "year": year}, status=404) from None
    return _from_selector(lambda: _selector().period_for_week(year, week))


def _month_period(year: int, month: int) -> Period:
    _check_year(year)
    if not 1 <= month <= 12:
        raise BadInput(_("Månad %(month)s finns inte.") % {"month": month}, status=404)
    return _from_selector(lambda: _selector().period_for_month(year, month))


def _parse_day(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(
            _("%(name)s måste vara ett datum som ÅÅÅÅ-MM-DD, inte ”%(value)s”.") % {"name": name, "value": value[:40]}
        ) from None


def _range_period(start_text: str, end_text: str) -> Period:
    if not start_text or not end_text:
        raise BadInput(_("Ange både från och till (from=ÅÅÅÅ-MM-DD&to=ÅÅÅÅ-MM-DD)."))
    start, end = _parse_day(start_text, "from"), _parse_day(end_text, "to")
    if end < start:
        raise BadInput(_("Slutdatumet %(end)s ligger före startdatumet %(start)s.") % {"start": start, "end": end})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise BadInput(
            _("En lägesbild gäller högst %(days)s dagar; dela upp perioden %(start)s – %(end)s.")
            % {"days": MAX_RANGE_DAYS, "start": start, "end": end}
        )
    _check_year(start.year)
    _check_year(end.year)
    return _from_selector(lambda: _selector().period_for_range(start, end))


def _from_selector(make) -> Period:
    try:
        return make()
    except ValueError as error:
        raise BadInput(str(error), status=404) from None


def _area_param(request: HttpRequest) -> int | None:
    value = request.GET.get("area", "")
    if value == "":
        return None
    if not value.isdigit():
        raise BadInput(_("Området ”%(value)s” är inget områdes-id.") % {"value": value[:40]})
    if not Area.objects.filter(pk=int(value)).exists():
        raise BadInput(_("Det finns inget område med id %(id)s.") % {"id": value}, status=404)
    return int(value)


def _format_param(request: HttpRequest) -> str:
    value = request.GET.get("format", "html") or "html"
    if value not in FORMATS:
        raise BadInput(_("Formatet ”%(value)s” finns inte; välj csv eller pdf.") % {"value": value[:20]})
    return value


def _client_address(request: HttpRequest) -> str:
    # Daphne runs with --proxy-headers behind Caddy, so REMOTE_ADDR is the client's, not the proxy's.
    return request.META.get("REMOTE_ADDR", "")


def _audit(request: HttpRequest, *, period: Period, area_id: int | None, fmt: str) -> None:
    audit_record(
        user=request.user,
        action="lagesbild.view" if fmt == "html" else "lagesbild.export",
        detail={
            "period": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "area": area_id,
            "format": fmt,
            "address": _client_address(request),
        },
    )


# --- the figures ---------------------------------------------------------------------------------------


def _shapes(area_ids: list[int]) -> dict[int, lagesbild_charts.AreaShape]:
    """The areas' outlines from PostGIS, as rings of (lon, lat) for the map."""
    shapes = {}
    for area_id, polygon in Area.objects.filter(pk__in=area_ids).values_list("pk", "polygon"):
        rings = [ring.coords for part in polygon for ring in part]
        label = polygon.point_on_surface.coords
        shapes[area_id] = lagesbild_charts.AreaShape(area_id=area_id, rings=rings, label_at=label)
    return shapes


def _local_bounds(period: Period) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(period.start, time.min, tzinfo=zone)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _note_points(period: Period, area_id: int | None) -> list[tuple[float, float]]:
    """Where the period's notes were made, as bare coordinates (no text, no author) for the density layer."""
    start, end = _local_bounds(period)
    notes = SituationNote.objects.filter(created_at__gte=start, created_at__lt=end, point__isnull=False)
    if area_id is not None:
        notes = notes.filter(area_id=area_id)
    coords = notes.annotate(
        x=Func(F("point"), function="ST_X", output_field=FloatField()),
        y=Func(F("point"), function="ST_Y", output_field=FloatField()),
    ).values_list("x", "y")
    return list(coords)


@dataclass(frozen=True)
class Figures:
    notes: str
    presence: str
    trend: str
    map: str

    def data_urls(self) -> dict[str, str]:
        """The same SVGs as data: URLs, for the PDF (WeasyPrint draws <img> SVG reliably)."""
        return {
            name: "data:image/svg+xml;base64," + base64.b64encode(getattr(self, name).encode()).decode()
            for name in ("notes", "presence", "trend", "map")
        }


# A small per-process memory of drawn figures: the page and then its PDF (or a reload on the projector)
# draw the same picture, and drawing is most of a request's time.
_FIGURES: OrderedDict[str, Figures] = OrderedDict()
_FIGURES_LOCK = Lock()
FIGURES_KEPT = 16


def _category_labels() -> dict[str, str]:
    return {value: str(label) for value, label in NoteCategory.choices}


def _draw(picture: Picture, shapes: dict, points: list) -> Figures:
    # Both heatmaps start at the same hour, so that they read side by side cell for cell.
    hours = lagesbild_charts.evening_hours(picture.notes_matrix, picture.presence_matrix)
    notes = lagesbild_charts.heatmap_svg(
        picture.notes_matrix,
        title=_("Noteringar per veckodag och timme"),
        unit=_("noteringar"),
        kind="notes",
        hours=hours,
        prefix="notes",
    )
    presence = lagesbild_charts.heatmap_svg(
        picture.presence_matrix,
        title=_("Vuxna på plats per veckodag och timme"),
        unit=_("vuxentimmar"),
        kind="presence",
        hours=hours,
        prefix="presence",
    )
    trend = lagesbild_charts.trend_svg(
        picture.trend_by_category, labels=_category_labels(), title=_("Noteringar per kategori mot tidigare")
    )
    area_map = lagesbild_charts.area_map_svg(
        picture.areas, shapes, points, title=_("Områden efter nivå, noteringar som täthet")
    )
    return Figures(*(svg.decode() for svg in (notes, presence, trend, area_map)))


def _figures(picture: Picture, area_id: int | None) -> Figures:
    shapes = _shapes([area.area_id for area in picture.areas])
    points = _note_points(picture.period, area_id)
    key = hashlib.sha256(repr((translation.get_language(), picture, shapes, points)).encode()).hexdigest()
    with _FIGURES_LOCK:
        if key in _FIGURES:
            _FIGURES.move_to_end(key)
            return _FIGURES[key]
    figures = _draw(picture, shapes, points)
    with _FIGURES_LOCK:
        _FIGURES[key] = figures
        while len(_FIGURES) > FIGURES_KEPT:
            _FIGURES.popitem(last=False)
    return figures


# --- what the templates show ------------------------------------------------------------------------


class LevelOverrideForm(forms.Form):
    """The EST group's override of one area's level for one week; the service decides whether it stands."""

    area = forms.IntegerField(widget=forms.HiddenInput)
    level = forms.ChoiceField(label=gettext_lazy("Ny nivå"), choices=[(level.value, level.label) for level in Level])
    reason = forms.CharField(label=gettext_lazy("Skäl"), max_length=500, widget=forms.TextInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels in the reader's language at render time, not at import.
        self.fields["level"].choices = [(level.value, str(LEVEL_LABELS[level])) for level in Level]


def _minutes_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return _("%(n)s s") % {"n": round(seconds)}
    return _("%(n)s min") % {"n": round(seconds / 60)}


# Figures where more is better: adult presence and positive meetings (their rise shows green, not red).
MORE_IS_BETTER = {"positive", "presence"}


def _trend_text(trend: Trend, *, key: str = "") -> dict:
    change = trend.change
    worse = change < 0 if key in MORE_IS_BETTER else change > 0
    return {
        "current": trend.current,
        "previous_mean": trend.previous_mean,
        "change": change,
        "direction": "same" if change == 0 else ("worse" if worse else "better"),
        "last_year": trend.last_year,
    }


def _area_rows(picture: Picture) -> list[dict]:
    categories = _category_labels()
    severities = dict(SituationNote.Severity.choices)
    rows = []
    for area in sorted(picture.areas, key=lambda a: (-list(Level).index(a.level), -a.notes, a.name)):
        rows.append(
            {
                "area": area,
                "level_label": area.level.label,
                "level_by_rule_label": area.level_by_rule.label,
                "presence": [
                    (ADULT_KIND_LABELS[kind], round(area.presence_minutes.get(kind, 0) / 60, 1)) for kind in ADULT_KINDS
                ],
                "categories": sorted(
                    ((categories.get(key, key), count) for key, count in area.notes_by_category.items() if count),
                    key=lambda pair: -pair[1],
                ),
                "severities": [
                    (str(severities[value]), area.notes_by_severity.get(value, 0)) for value in sorted(severities)
                ],
                "reports": sorted(area.reports_by_category.items()),
            }
        )
    return rows


def _query(request: HttpRequest, **changes) -> str:
    params = {key: value for key, value in request.GET.items() if key in ("from", "to", "area")}
    params.update({key: value for key, value in changes.items() if value is not None})
    return "?" + urlencode(params) if params else ""


def _week_url(year: int, week: int) -> str:
    return reverse("lagesbild_week", kwargs={"year": year, "week": week})


def _navigation(request: HttpRequest, period: Period) -> dict:
    """Previous and next of the same kind (week, month), and the current week."""
    today = timezone.localdate()
    keep = _query(request)
    nav = {
        "current_week": reverse("lagesbild")
        + ("?" + urlencode({"area": request.GET["area"]}) if request.GET.get("area") else "")
    }
    if period.iso_week:
        monday = date.fromisocalendar(*period.iso_week, 1)
        before, after = (monday - timedelta(days=7)).isocalendar(), (monday + timedelta(days=7)).isocalendar()
        nav["previous"] = (_week_url(before.year, before.week) + keep, _("v. %(week)s") % {"week": before.week})
        if monday + timedelta(days=7) <= today:
            nav["next"] = (_week_url(after.year, after.week) + keep, _("v. %(week)s") % {"week": after.week})
    elif period.start.day == 1 and period.end == _month_end(period.start):
        before = (period.start - timedelta(days=1)).replace(day=1)
        after = period.end + timedelta(days=1)
        month_url = lambda d: reverse("lagesbild_month", kwargs={"year": d.year, "month": d.month}) + keep  # noqa: E731
        nav["previous"] = (month_url(before), date_format(before, "F Y"))
        if after <= today:
            nav["next"] = (month_url(after), date_format(after, "F Y"))
    return nav


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _decisions_url(period: Period) -> str | None:
    """The EST decisions page of the week; None for a period that is not one week."""
    if not period.iso_week:
        return None
    return reverse("est_decisions", kwargs={"year": period.iso_week[0], "week": period.iso_week[1]})


def _context(
    request: HttpRequest, viewer: access.Viewer, picture: Picture, area_id: int | None, figures: Figures
) -> dict:
    alerts = picture.alerts
    return {
        "picture": picture,
        "period": picture.period,
        "area_id": area_id,
        "area_name": next((a.name for a in picture.areas if a.area_id == area_id), None),
        "rows": _area_rows(picture),
        "figures": figures,
        "presence_trend": _trend_text(picture.presence_trend, key="presence"),
        "reports_trend": _trend_text(picture.reports_trend) if picture.reports_trend else None,
        "trends": [
            {"label": _category_labels().get(key, key), **_trend_text(trend, key=key)}
            for key, trend in sorted(picture.trend_by_category.items(), key=lambda item: -item[1].current)
        ],
        "alert_times": {
            "ack": _minutes_text(alerts.median_seconds_to_ack),
            "resolve": _minutes_text(alerts.median_seconds_to_resolve),
            "max_ack": _minutes_text(alerts.max_seconds_to_ack),
        },
        "reports": [(_category_labels().get(k, k), n) for k, n in sorted(picture.reports_by_category.items())],
        "decisions_url": _decisions_url(picture.period),
        "generated_at": timezone.localtime(),
    }


# --- the responses -------------------------------------------------------------------------------------


def _error(request: HttpRequest, error: BadInput) -> HttpResponse:
    viewer = access.viewer_for(request.user)
    context = {**page_context(request, viewer, current="lagesbild"), "message": error.message, "status": error.status}
    return render(request, "coordination/lagesbild_error.html", context, status=error.status)


def _filename(period: Period, area_id: int | None, extension: str) -> str:
    if period.iso_week:
        stem = f"lagesbild-{period.iso_week[0]}-v{period.iso_week[1]:02d}"
    else:
        stem = f"lagesbild-{period.start.isoformat()}-{period.end.isoformat()}"
    if area_id is not None:
        stem += f"-omrade-{area_id}"
    return f"{stem}.{extension}"


def _respond(
    request: HttpRequest, make_period, *, override_form: LevelOverrideForm | None = None, status: int = 200
) -> HttpResponse:
    """Check access and input, read the picture, write the audit row, answer in the asked-for format."""
    viewer = _reader(request)
    try:
        period = make_period()
        area_id = _area_param(request)
        fmt = "html" if override_form is not None else _format_param(request)
    except BadInput as error:
        return _error(request, error)
    picture = _picture_for(period, area_id)
    _audit(request, period=period, area_id=area_id, fmt=fmt)
    if fmt == "csv":
        response = HttpResponse(lagesbild_exports.csv_zip(picture), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{_filename(period, area_id, "zip")}"'
        return response
    figures = _figures(picture, area_id)
    context = _context(request, viewer, picture, area_id, figures)
    if fmt == "pdf":
        html = render_to_string(
            "coordination/lagesbild_pdf.html", {**context, "images": figures.data_urls()}, request=request
        )
        pdf = lagesbild_exports.pdf_from_html(html, base_url=request.build_absolute_uri("/"))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{_filename(period, area_id, "pdf")}"'
        return response
    may_override = period.iso_week is not None and access.may_override_level(viewer)
    context.update(
        {
            **page_context(request, viewer, current="lagesbild"),
            "svg": {name: mark_safe(getattr(figures, name)) for name in ("notes", "presence", "trend", "map")},
            "nav": _navigation(request, period),
            "may_override": may_override,
            "override_form": override_form,
            "override_area": override_form.data.get("area") if override_form is not None else None,
            "override_url": reverse(
                "lagesbild_override", kwargs={"year": period.iso_week[0], "week": period.iso_week[1]}
            )
            + _query(request)
            if may_override
            else None,
            "level_choices": [(level.value, level.label) for level in Level],
            "csv_url": _query(request, format="csv"),
            "pdf_url": _query(request, format="pdf"),
            "areas": Area.objects.exclude(kind=Area.Kind.MUNICIPALITY).order_by("name").values_list("pk", "name"),
            "range_from": request.GET.get("from") or period.start.isoformat(),
            "range_to": request.GET.get("to") or period.end.isoformat(),
        }
    )
    return render(request, "coordination/lagesbild.html", context, status=status)


@never_cache
@login_required
def lagesbild(request: HttpRequest) -> HttpResponse:
    """/lagesbild/: any range with ?from=&to=, otherwise a redirect to the current ISO week."""
    _reader(request)
    if "from" in request.GET or "to" in request.GET:
        return _respond(request, lambda: _range_period(request.GET.get("from", ""), request.GET.get("to", "")))
    today = timezone.localdate().isocalendar()
    query = {key: value for key, value in request.GET.items() if key in ("area", "format")}
    return redirect(_week_url(today.year, today.week) + ("?" + urlencode(query) if query else ""))


@never_cache
@login_required
def lagesbild_week(request: HttpRequest, year: int, week: int) -> HttpResponse:
    """One ISO week's picture, with the previous and next week a click away."""
    return _respond(request, lambda: _week_period(year, week))


@never_cache
@login_required
def lagesbild_month(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """One calendar month's picture."""
    return _respond(request, lambda: _month_period(year, month))


@require_POST
@login_required
def lagesbild_override(request: HttpRequest, year: int, week: int) -> HttpResponse:
    """Override an area's level for a week (with a reason), then back to the week; errors show on the page."""
    viewer = _reader(request)
    if not access.may_override_level(viewer):
        raise PermissionDenied
    try:
        _week_period(year, week)
    except BadInput as error:
        return _error(request, error)
    form = LevelOverrideForm(request.POST)
    if form.is_valid():
        try:
            _override_level(
                actor=request.user,
                area_id=form.cleaned_data["area"],
                year=year,
                week=week,
                level=form.cleaned_data["level"],
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    if form.is_valid():
        messages.success(request, _("Nivån är ändrad."))
        return redirect(_week_url(year, week) + _query(request))
    return _respond(request, lambda: _week_period(year, week), override_form=form, status=400)
