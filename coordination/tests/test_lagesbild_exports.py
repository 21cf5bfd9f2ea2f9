"""The lägesbild's CSV zip, its PDF (text read back with pypdf) and the SVG figures they share with the page."""

import csv
import io
import re
import zipfile
from xml.etree import ElementTree

import pdfplumber
import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from coordination import lagesbild_charts, lagesbild_exports
from coordination.lagesbild import ADULT_KINDS
from coordination.models import AuditLog, NoteCategory, SituationNote
from coordination.tests.lagesbild_fixture import picture_fixture, stand_in_selector, week_period
from coordination.tests.test_lagesbild_views import WEEK, signed_in
from maps.models import Area

SVG = "{http://www.w3.org/2000/svg}"


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def pdf_text(content: bytes) -> str:
    """The PDF's text with every run of white space as one space (table cells wrap their lines)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


@pytest.fixture
def lagesbild_selector(world, monkeypatch):
    return stand_in_selector(world, monkeypatch)


# --- CSV ---------------------------------------------------------------------------------------------


def test_the_csv_export_is_a_zip_with_one_file_per_table_and_a_readme(client, world, lagesbild_selector):
    response = signed_in(client, world.dana).get(WEEK + "?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="lagesbild-2026-v47.zip"'
    files = unzip(response.content)
    assert sorted(files) == [
        "README.txt",
        "alerts.csv",
        "areas.csv",
        "followups.csv",
        "notes_matrix.csv",
        "presence_matrix.csv",
        "trend.csv",
    ]


def test_the_areas_csv_has_its_documented_columns_and_the_pictures_figures(client, world, lagesbild_selector):
    files = unzip(signed_in(client, world.dana).get(WEEK + "?format=csv").content)
    header, *body = rows(files["areas.csv"])
    assert header == [
        "area_id",
        "area",
        "kind",
        "priority",
        "level",
        "level_by_rule",
        "overridden",
        "level_reason",
        "presence_hours",
        *[f"presence_hours_{kind}" for kind in ADULT_KINDS],
        "notes",
        *[f"notes_{category}" for category in NoteCategory.values],
        "notes_severity_1",
        "notes_severity_2",
        "notes_severity_3",
        "youth_counted",
        "alerts",
        "activities_held",
    ]
    hamnen = dict(zip(header, body[0], strict=True))
    assert hamnen["area_id"] == str(world.hotspot.pk)
    assert (hamnen["level"], hamnen["level_by_rule"], hamnen["overridden"]) == ("red", "orange", "1")
    assert (hamnen["presence_hours"], hamnen["presence_hours_field"], hamnen["presence_hours_night_walker"]) == (
        "16.0",
        "9.0",
        "5.0",
    )
    assert (hamnen["notes"], hamnen["notes_gathering"], hamnen["notes_severity_3"]) == ("22", "11", "5")
    assert (hamnen["youth_counted"], hamnen["alerts"], hamnen["activities_held"]) == ("143", "2", "1")
    for name, _meaning in lagesbild_exports.tables()[0].columns:
        assert f"  {name}: " in files["README.txt"]


def test_the_matrices_trend_alerts_and_followups_have_their_columns(client, world, lagesbild_selector):
    files = unzip(signed_in(client, world.dana).get(WEEK + "?format=csv").content)
    notes = rows(files["notes_matrix.csv"])
    assert notes[0] == ["weekday", "weekday_name", *[f"h{hour:02d}" for hour in range(24)]]
    assert len(notes) == 8
    assert notes[5][:2] == ["4", "Fre"] and notes[5][2 + 21] == "9"  # Friday 21-22: nine notes
    presence = rows(files["presence_matrix.csv"])
    assert presence[5][2 + 19] == "6.0"
    trend = rows(files["trend.csv"])
    assert trend[0] == ["figure", "current", "previous_mean", "change", "last_year"]
    assert ["notes_gathering", "17", "9.5", "7.5", "12"] in trend
    assert ["presence_hours", "52.5", "47.0", "5.5", "40.0"] in trend
    assert rows(files["alerts.csv"]) == [
        [
            "raised",
            "acknowledged",
            "resolved",
            "median_seconds_to_ack",
            "median_seconds_to_resolve",
            "max_seconds_to_ack",
        ],
        ["2", "2", "2", "38", "840", "61"],
    ]
    followups = rows(files["followups.csv"])
    assert followups[0] == [
        "decision_id",
        "area",
        "planned",
        "who",
        "planned_hours",
        "adult_hours_present",
        "notes_before",
        "notes_after",
    ]
    assert followups[1] == ["7", "Hamnen", "fre–lör 20–23", "Team Hamnen och polisen", "12.0", "8.5", "14", "22"]


def test_the_csv_columns_are_the_same_in_english(client, world, lagesbild_selector):
    client = signed_in(client, world.dana)
    swedish = unzip(client.get(WEEK + "?format=csv").content)
    english = unzip(client.get(WEEK + "?format=csv", HTTP_ACCEPT_LANGUAGE="en").content)
    for name in ("areas.csv", "trend.csv", "alerts.csv", "followups.csv"):
        assert rows(english[name])[0] == rows(swedish[name])[0]


def test_a_picture_without_alerts_leaves_their_times_empty():
    picture = picture_fixture()
    picture = type(picture)(
        **{
            **picture.__dict__,
            "alerts": type(picture.alerts)(0, 0, 0, None, None, None),
            "followups": [],
        }
    )
    files = unzip(lagesbild_exports.csv_zip(picture))
    assert rows(files["alerts.csv"])[1] == ["0", "0", "0", "", "", ""]
    assert len(rows(files["followups.csv"])) == 1


# --- PDF -----------------------------------------------------------------------------------------------


def test_the_pdf_holds_the_headings_figures_and_charts_in_swedish(client, world, lagesbild_selector):
    response = signed_in(client, world.dana).get(WEEK + "?format=pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="lagesbild-2026-v47.pdf"'
    text = pdf_text(response.content)
    for heading in (
        "Lägesbild v. 47 2026",
        "Sammanfattning",
        "Områden",
        "Mönster: kommer de vuxna när det händer?",
        "Trend mot de fyra perioderna före",
        "Karta",
        "Uppföljning av förra veckans beslut",
        "Larm och hur de hanterades",
    ):
        assert heading in text, heading
    assert "Samling av unga ökade mest" in text
    assert "Hamnen" in text and "Centrum" in text and "143" in text and "16,0" in text
    assert "Team Hamnen och polisen" in text
    # The figures are drawn as vectors with real text: their titles and labels are in the PDF's text.
    assert "Noteringar per veckodag och timme" in text
    assert "Vuxna på plats per veckodag och timme" in text
    assert "Områden efter nivå, noteringar som täthet" in text
    assert "Snitt fyra perioder före" in text


def test_the_pdf_is_in_english_for_an_english_reader(client, world, lagesbild_selector):
    client = signed_in(client, world.dana)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    text = pdf_text(client.get(WEEK + "?format=pdf").content)
    assert "Situation picture v. 47 2026" in text
    assert "Summary" in text and "Areas" in text and "Map" in text
    assert "Notes by weekday and hour" in text
    assert "Sammanfattning" not in text


def test_the_pdf_is_audited_as_an_export(client, world, lagesbild_selector):
    signed_in(client, world.frida).get(WEEK + f"?format=pdf&area={world.hotspot.pk}", REMOTE_ADDR="198.51.100.4")
    row = AuditLog.objects.get(action="lagesbild.export")
    assert row.user == world.frida
    assert (row.detail["format"], row.detail["area"], row.detail["address"]) == (
        "pdf",
        world.hotspot.pk,
        "198.51.100.4",
    )


def test_page_and_pdf_draw_the_same_figures(client, world, lagesbild_selector):
    """The PDF embeds the SVG the page shows inline, byte for byte."""
    client = signed_in(client, world.dana)
    html = client.get(WEEK).content.decode()
    page_map = re.search(r'<svg [^>]*data-chart="map".*?</svg>', html, re.S).group(0)
    picture = lagesbild_selector.picture(period=week_period(), area_id=None)
    from coordination.lagesbild_views import _figures

    assert _figures(picture, None).map == page_map


# --- the figures ---------------------------------------------------------------------------------------


def shapes_of(*areas: Area) -> dict[int, lagesbild_charts.AreaShape]:
    from coordination.lagesbild_views import _shapes

    return _shapes([area.pk for area in areas])


def test_the_map_has_one_path_per_area_drawn_from_postgis(world):
    third = Area.objects.create(
        name="Skaftö",
        kind="district",
        polygon=MultiPolygon(
            Polygon(((11.40, 58.26), (11.42, 58.26), (11.42, 58.28), (11.40, 58.28), (11.40, 58.26))),
            Polygon(((11.38, 58.25), (11.39, 58.25), (11.39, 58.26), (11.38, 58.25))),
            srid=4326,
        ),
    )
    areas = [
        (world.hotspot.pk, "Hamnen", "hotspot"),
        (world.district.pk, "Centrum", "district"),
        (third.pk, "Skaftö", "district"),
    ]
    picture = picture_fixture(areas=areas)
    svg = lagesbild_charts.area_map_svg(
        picture.areas, shapes_of(world.hotspot, world.district, third), [(11.445, 58.28)] * 5, title="Karta"
    )
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    for area_id in (world.hotspot.pk, world.district.pk, third.pk):
        group = root.find(f".//{SVG}g[@id='map-area-{area_id}']")
        assert group is not None, area_id
        assert len(group.findall(f".//{SVG}path")) == 1
    assert len(root.findall(f".//{SVG}g[@id]")) >= 3
    # Skaftö's two islands are one path with two closed rings; its colour is green's.
    skafto = root.find(f".//{SVG}g[@id='map-area-{third.pk}']/{SVG}path")
    assert skafto.get("d").count("M ") == 2
    assert "#2e7d32" in skafto.get("style")
    assert root.find(f".//{SVG}g[@id='map-notes-density']") is not None


def test_the_map_of_an_area_with_notes_reads_only_their_points(client, world, lagesbild_selector):
    from coordination.lagesbild_views import _note_points

    SituationNote.objects.create(
        author=world.alice, category="gathering", point=Point(11.445, 58.28, srid=4326), area=world.hotspot, text="x"
    )
    SituationNote.objects.create(author=world.alice, category="other", area=world.district, text="no point")
    today = timezone.localdate().isocalendar()
    period = lagesbild_selector.period_for_week(today.year, today.week)
    assert _note_points(period, None) == [pytest.approx((11.445, 58.28))]
    assert _note_points(period, world.district.pk) == []


def test_area_names_are_escaped_in_the_svg(world):
    picture = picture_fixture(
        areas=[(world.hotspot.pk, "<b>Hamn & Co</b>", "hotspot"), (world.district.pk, "C", "district")]
    )
    svg = lagesbild_charts.area_map_svg(picture.areas, shapes_of(world.hotspot, world.district), [], title="Karta")
    assert b"<b>" not in svg
    ElementTree.fromstring(svg)  # still well-formed


@pytest.mark.parametrize("kind", ["notes", "presence"])
def test_a_heatmap_is_valid_svg_with_seven_days_and_its_figures(kind):
    picture = picture_fixture()
    matrix = picture.notes_matrix if kind == "notes" else picture.presence_matrix
    svg = lagesbild_charts.heatmap_svg(matrix, title="Titel", unit="antal", kind=kind, prefix=kind)
    root = ElementTree.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Mån", "Tis", "Ons", "Tor", "Fre", "Lör", "Sön"} <= set(texts)
    assert ("9" if kind == "notes" else "4,5") in texts  # Swedish decimals, like the tables
    assert all(element.get("id", "").startswith(f"{kind}-") for element in root.iter() if element.get("id"))


def test_the_trend_chart_shows_every_category_with_its_change():
    picture = picture_fixture()
    svg = lagesbild_charts.trend_svg(
        picture.trend_by_category, labels=dict(NoteCategory.choices), title="Trend", prefix="trend"
    )
    texts = [t.text for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]
    assert "Samling av unga" in texts and "17 (+7,5)" in texts and "5 (−1,0)" in texts
    assert "Samma vecka i fjol" in texts


def test_the_trend_chart_without_last_year_has_no_such_bars():
    picture = picture_fixture(with_last_year=False)
    svg = lagesbild_charts.trend_svg(picture.trend_by_category, labels={}, title="Trend")
    assert b"Samma vecka i fjol" not in svg


def test_empty_figures_still_draw():
    empty = [[0] * 24 for _ in range(7)]
    ElementTree.fromstring(lagesbild_charts.heatmap_svg(empty, title="T", unit="u"))
    ElementTree.fromstring(lagesbild_charts.trend_svg({}, labels={}, title="T"))
    ElementTree.fromstring(lagesbild_charts.area_map_svg([], {}, [], title="K"))


def test_the_heatmaps_show_evenings_from_noon_running_past_midnight():
    notes = [[0] * 24 for _ in range(7)]
    notes[4][23] = 4  # Friday 23-24
    notes[5][1] = 2  # Saturday 01-02: still Friday evening
    presence = [[0.0] * 24 for _ in range(7)]
    presence[4][18] = 3.5
    hours = lagesbild_charts.evening_hours(notes, presence)
    assert hours == lagesbild_charts.Hours(first=12, last_night=1)
    assert hours.columns == [*range(12, 24), 0, 1]
    evenings = lagesbild_charts._evening_rows(notes, hours)
    assert evenings[4][-3:] == [4, 0, 2]  # Friday's row: 23, 00, 01
    assert evenings[5] == [0] * 14  # Saturday evening itself was quiet
    svg = lagesbild_charts.heatmap_svg(notes, title="T", unit="u", hours=hours)
    assert b"efter midnatt" in svg


def test_a_busy_morning_moves_the_start_earlier_and_a_quiet_night_adds_no_columns():
    notes = [[0] * 24 for _ in range(7)]
    notes[2][9] = 1
    assert lagesbild_charts.evening_hours(notes) == lagesbild_charts.Hours(first=9, last_night=None)
    assert lagesbild_charts.evening_hours([[0] * 24] * 7) == lagesbild_charts.Hours(first=12, last_night=None)


def test_a_map_name_whose_spot_is_taken_moves_elsewhere_inside_its_area(world):
    near = Area.objects.create(
        name="Busstationen",
        kind="hotspot",
        polygon=MultiPolygon(
            Polygon(((11.443, 58.279), (11.447, 58.279), (11.447, 58.2815), (11.443, 58.2815), (11.443, 58.279))),
            srid=4326,
        ),
    )
    areas = [
        (world.hotspot.pk, "Hamnen", "hotspot"),
        (world.district.pk, "Centrum", "district"),
        (near.pk, "Busstationen", "hotspot"),
    ]
    picture = picture_fixture(areas=areas)
    svg = lagesbild_charts.area_map_svg(picture.areas, shapes_of(world.hotspot, world.district, near), [], title="K")
    texts = [t.text for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]
    assert {"Busstationen", "Hamnen", "Centrum"} <= set(texts)
    assert not any(text.startswith("1  ") for text in texts)


def test_map_names_with_no_room_left_become_numbers_with_a_key(world):
    tiny = MultiPolygon(Polygon.from_bbox((11.445, 58.28, 11.4458, 58.2805)), srid=4326)
    same = [Area.objects.create(name=f"Skolgård {n}", kind="hotspot", polygon=tiny) for n in (1, 2)]
    areas = [
        (world.district.pk, "Centrum", "district"),
        (same[0].pk, "Skolgård 1", "hotspot"),
        (same[1].pk, "Skolgård 2", "hotspot"),
    ]
    picture = picture_fixture(areas=areas)
    svg = lagesbild_charts.area_map_svg(picture.areas, shapes_of(world.district, *same), [], title="K")
    texts = [t.text for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]
    assert "Centrum" in texts
    assert ("Skolgård 1" in texts and "1  Skolgård 2" in texts) or ("Skolgård 2" in texts and "1  Skolgård 1" in texts)
    assert "1" in texts


def test_page_one_of_the_pdf_is_filled_before_the_next_section_starts(client, world, lagesbild_selector):
    content = signed_in(client, world.dana).get(WEEK + "?format=pdf").content
    with pdfplumber.open(io.BytesIO(content)) as pdf:
        first = pdf.pages[0]
        footer_top = first.height - 18 / 25.4 * 72  # the page's bottom margin holds only the footer
        drawn = first.chars + first.images + first.rects + first.curves + first.lines
        lowest = max(thing["bottom"] for thing in drawn if thing["bottom"] < footer_top)
        text = first.extract_text()
    # The patterns section starts on page 1 under the areas (its heading and first heatmap), instead of
    # moving whole to page 2 and leaving the lower third of page 1 empty.
    assert "Mönster: kommer de vuxna när det händer?" in text
    assert lowest > 0.8 * footer_top, (lowest, footer_top)
