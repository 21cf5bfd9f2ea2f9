"""The lägesbild's exports: a zip with one CSV per table (and a README of its columns), and the meeting's PDF.

Column names are stable ASCII identifiers, the same in every language, so a spreadsheet or script that reads
them keeps working; README.txt says what each one means, in the reader's language. Figures only: no person,
no position, no note text (the Picture holds none).
"""

import csv
import io
import logging
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from coordination.lagesbild import ADULT_KINDS, Picture, Trend
from coordination.lagesbild_charts import weekday_names
from coordination.models import NoteCategory, SituationNote

__all__ = ["csv_zip", "pdf_from_html", "tables"]

# WeasyPrint logs every layout step at INFO: seven lines per PDF in the server's log say nothing useful.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Table:
    """One CSV file: its name, a sentence on what a row is, and (column, meaning) pairs."""

    filename: str
    row: str
    columns: Sequence[tuple[str, str]]
    rows: Callable[[Picture], list[list]]


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _area_columns() -> list[tuple[str, str]]:
    columns = [
        ("area_id", _("Områdets id i Närvaro")),
        ("area", _("Områdets namn")),
        ("kind", _("Typ av område: municipality, district eller hotspot")),
        ("priority", _("Områdets prioritet (högre = viktigare)")),
        ("level", _("Nivå: green, yellow, orange eller red (efter EST:s ändring, om någon)")),
        ("level_by_rule", _("Nivå enligt regeln, före ändring")),
        ("overridden", _("1 om EST-gruppen har ändrat nivån, annars 0")),
        ("level_reason", _("Regeln som gav nivån, eller skälet till ändringen")),
        ("presence_hours", _("Vuxentimmar i området totalt (personminuter / 60)")),
    ]
    columns += [
        (f"presence_hours_{kind}", _("Vuxentimmar, vuxna av typen %(kind)s") % {"kind": kind}) for kind in ADULT_KINDS
    ]
    columns += [("notes", _("Lägesnoteringar i området totalt"))]
    columns += [
        (f"notes_{value}", _("Noteringar i kategorin %(label)s") % {"label": label})
        for value, label in NoteCategory.choices
    ]
    columns += [
        (f"notes_severity_{value}", _("Noteringar med allvarlighet %(label)s") % {"label": label})
        for value, label in SituationNote.Severity.choices
    ]
    columns += [
        ("youth_counted", _("Summan av de ungefärliga antalen unga på noteringarna")),
        ("alerts", _("Larm i området")),
        ("activities_held", _("Föreningsaktiviteter som hölls i området")),
    ]
    return columns


def _area_rows(picture: Picture) -> list[list]:
    rows = []
    for area in picture.areas:
        row = [
            area.area_id,
            area.name,
            area.kind,
            area.priority,
            area.level.value,
            area.level_by_rule.value,
            int(area.overridden),
            area.level_reason,
            area.presence_hours,
        ]
        row += [_hours(area.presence_minutes.get(kind, 0)) for kind in ADULT_KINDS]
        row += [area.notes]
        row += [area.notes_by_category.get(value, 0) for value in NoteCategory.values]
        row += [area.notes_by_severity.get(value, 0) for value in SituationNote.Severity.values]
        row += [area.youth_counted, area.alerts, area.activities_held]
        rows.append(row)
    return rows


def _matrix_columns(what) -> list[tuple[str, str]]:
    columns = [("weekday", _("Veckodag, 0 = måndag")), ("weekday_name", _("Veckodagens namn"))]
    columns += [(f"h{hour:02d}", what % {"hour": hour}) for hour in range(24)]
    return columns


def _matrix_rows(matrix: Sequence[Sequence[float]]) -> list[list]:
    names = weekday_names()
    return [[day, names[day], *list(matrix[day])] for day in range(min(7, len(matrix)))]


def _trend_row(figure: str, trend: Trend) -> list:
    last_year = "" if trend.last_year is None else trend.last_year
    return [figure, trend.current, round(trend.previous_mean, 2), round(trend.change, 2), last_year]


def _trend_rows(picture: Picture) -> list[list]:
    rows = [_trend_row(f"notes_{category}", trend) for category, trend in picture.trend_by_category.items()]
    rows.append(_trend_row("presence_hours", picture.presence_trend))
    if picture.reports_trend is not None:
        rows.append(_trend_row("reports", picture.reports_trend))
    return rows


def _alert_rows(picture: Picture) -> list[list]:
    alerts = picture.alerts
    return [
        [
            alerts.raised,
            alerts.acknowledged,
            alerts.resolved,
            _seconds(alerts.median_seconds_to_ack),
            _seconds(alerts.median_seconds_to_resolve),
            _seconds(alerts.max_seconds_to_ack),
        ]
    ]


def _followup_rows(picture: Picture) -> list[list]:
    return [
        [
            f.decision_id,
            f.area_name,
            f.planned,
            f.who,
            f.planned_hours,
            f.adult_hours_present,
            f.notes_before,
            f.notes_after,
        ]
        for f in picture.followups
    ]


def tables() -> list[Table]:
    """The CSV files, built per call so that the README follows the active language."""
    return [
        Table("areas.csv", _("Ett område per rad."), _area_columns(), _area_rows),
        Table(
            "notes_matrix.csv",
            _("En veckodag per rad: lägesnoteringar per timme (lokal tid), alla områden i urvalet."),
            _matrix_columns(_("Noteringar gjorda kl. %(hour)02d–%(hour)02d.59")),
            lambda picture: _matrix_rows(picture.notes_matrix),
        ),
        Table(
            "presence_matrix.csv",
            _("En veckodag per rad: vuxentimmar per timme (lokal tid), alla områden i urvalet."),
            _matrix_columns(_("Vuxentimmar kl. %(hour)02d–%(hour)02d.59")),
            lambda picture: _matrix_rows(picture.presence_matrix),
        ),
        Table(
            "trend.csv",
            _("En siffra per rad mot snittet av de fyra perioderna före."),
            [
                ("figure", _("notes_<kategori>, presence_hours eller reports")),
                ("current", _("Värdet i perioden")),
                ("previous_mean", _("Snittet av de fyra perioderna före")),
                ("change", _("current minus previous_mean")),
                ("last_year", _("Samma vecka året före; tomt när data saknas")),
            ],
            _trend_rows,
        ),
        Table(
            "alerts.csv",
            _("En rad: larmen i perioden och hur snabbt de hanterades."),
            [
                ("raised", _("Larm som utlöstes")),
                ("acknowledged", _("Larm som kvitterades")),
                ("resolved", _("Larm som avslutades")),
                ("median_seconds_to_ack", _("Mediantid till kvittering, sekunder; tomt utan larm")),
                ("median_seconds_to_resolve", _("Mediantid till avslut, sekunder; tomt utan larm")),
                ("max_seconds_to_ack", _("Längsta tid till kvittering, sekunder; tomt utan larm")),
            ],
            _alert_rows,
        ),
        Table(
            "followups.csv",
            _("Ett beslut från förra EST-mötet per rad, följt upp: planerat mot utfall."),
            [
                ("decision_id", _("Beslutets id")),
                ("area", _("Området beslutet gällde")),
                ("planned", _("Kvällar och timmar som beslutades")),
                ("who", _("Vem som skulle agera")),
                ("planned_hours", _("Planerade vuxentimmar")),
                ("adult_hours_present", _("Vuxentimmar som fanns på plats")),
                ("notes_before", _("Noteringar i området perioden före beslutet")),
                ("notes_after", _("Noteringar i området i denna period")),
            ],
            _followup_rows,
        ),
    ]


def _csv(columns: Sequence[tuple[str, str]], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _meaning in columns])
    writer.writerows(rows)
    # A byte order mark: Excel, which most municipalities open CSV files in, then reads å, ä and ö right.
    return ("\ufeff" + out.getvalue()).encode()


def _readme(picture: Picture, files: list[Table], labels: Mapping[str, str]) -> str:
    lines = [
        _("Lägesbild %(period)s, %(start)s – %(end)s")
        % {
            "period": picture.period.label,
            "start": picture.period.start.isoformat(),
            "end": picture.period.end.isoformat(),
        },
        _("Filerna är kommaseparerade (UTF-8). Kolumnerna:"),
        "",
    ]
    for table in files:
        lines += [table.filename, f"  {table.row}"]
        lines += [f"  {name}: {meaning}" for name, meaning in table.columns]
        lines.append("")
    if labels:
        lines.append(_("Kategorier: ") + ", ".join(f"{key} = {label}" for key, label in labels.items()))
    return "\n".join(lines) + "\n"


def csv_zip(picture: Picture) -> bytes:
    """The picture's tables as one zip: areas, notes matrix, presence matrix, trend, alerts, follow-ups, README."""
    all_tables = tables()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in all_tables:
            archive.writestr(table.filename, _csv(table.columns, table.rows(picture)))
        archive.writestr("README.txt", _readme(picture, all_tables, dict(NoteCategory.choices)))
    return out.getvalue()


def pdf_from_html(html: str, *, base_url: str) -> bytes:
    """The page for print as a PDF (WeasyPrint); images come inline as data: URLs, so nothing is fetched."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s, which only the PDF needs

    return HTML(string=html, base_url=base_url).write_pdf()
