"""import_areas: polygons from any GeoJSON FeatureCollection, all or nothing, updating by name and kind."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon, Point
from django.core.management import CommandError, call_command

from maps.models import Area

HARBOUR_RING = [[11.435, 58.270], [11.440, 58.270], [11.440, 58.273], [11.435, 58.273], [11.435, 58.270]]
STATION_RING = [[11.436, 58.277], [11.439, 58.277], [11.439, 58.279], [11.436, 58.279], [11.436, 58.277]]
BOWTIE_RING = [[11.43, 58.27], [11.44, 58.28], [11.44, 58.27], [11.43, 58.28], [11.43, 58.27]]


def polygon(ring: list) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def feature(name: str | None, geometry: dict | None, **properties) -> dict:
    if name is not None:
        properties["name"] = name
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def collection(*features: dict, **extra) -> dict:
    return {"type": "FeatureCollection", "features": list(features), **extra}


def write(tmp_path: Path, data, name: str = "areas.geojson") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def run(path: Path, **options) -> str:
    out = StringIO()
    call_command("import_areas", str(path), stdout=out, **options)
    return out.getvalue()


def test_it_imports_every_polygon_with_the_kind_asked_for(db, tmp_path):
    path = write(
        tmp_path,
        collection(feature("Södra hamnen", polygon(HARBOUR_RING)), feature("Busstationen", polygon(STATION_RING))),
    )

    output = run(path, kind="hotspot", priority=4)

    areas = {a.name: a for a in Area.objects.all()}
    assert set(areas) == {"Södra hamnen", "Busstationen"}
    harbour = areas["Södra hamnen"]
    assert harbour.kind == Area.Kind.HOTSPOT
    assert harbour.priority == 4
    assert harbour.polygon.srid == 4326
    assert harbour.polygon.contains(Point(11.4375, 58.2715, srid=4326))
    assert not harbour.polygon.contains(Point(11.4375, 58.278, srid=4326))
    assert harbour.polygon.extent == pytest.approx((11.435, 58.270, 11.440, 58.273))
    assert "2 new, 0 updated" in output


def test_it_keeps_a_multipolygon_with_all_its_parts(db, tmp_path):
    geometry = {"type": "MultiPolygon", "coordinates": [[HARBOUR_RING], [STATION_RING]]}
    path = write(tmp_path, collection(feature("Hamn och station", geometry)))

    run(path, kind="district")

    area = Area.objects.get()
    assert area.kind == Area.Kind.DISTRICT
    assert isinstance(area.polygon, MultiPolygon) and len(area.polygon) == 2
    assert area.priority == 0


def test_it_reads_the_name_from_the_property_asked_for(db, tmp_path):
    path = write(tmp_path, collection(feature(None, polygon(HARBOUR_RING), NAMN="Södra hamnen")))

    run(path, kind="district", name_property="NAMN")

    assert Area.objects.get().name == "Södra hamnen"


def test_it_transforms_a_file_in_another_crs_to_wgs84(db, tmp_path):
    # A 1 km square in SWEREF 99 TM (EPSG:3006), the Swedish national grid, near Lysekil.
    x, y = 306_000, 6_463_000
    ring = [[x, y], [x + 1000, y], [x + 1000, y + 1000], [x, y + 1000], [x, y]]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}}
    path = write(tmp_path, collection(feature("Rutan", polygon(ring)), crs=crs))

    run(path, kind="district")

    west, south, east, north = Area.objects.get().polygon.extent
    assert 11.0 < west < east < 12.0
    assert 58.0 < south < north < 58.5
    assert north - south == pytest.approx(0.009, abs=0.001)  # 1 km of latitude


def test_a_second_import_updates_the_area_with_the_same_name_and_kind(db, tmp_path):
    run(write(tmp_path, collection(feature("Södra hamnen", polygon(HARBOUR_RING)))), kind="hotspot", priority=3)
    district = Area.objects.create(name="Södra hamnen", kind=Area.Kind.DISTRICT, polygon=Area.objects.get().polygon)

    output = run(write(tmp_path, collection(feature("Södra hamnen", polygon(STATION_RING)))), kind="hotspot")

    hotspot = Area.objects.get(kind=Area.Kind.HOTSPOT)
    assert Area.objects.count() == 2
    assert hotspot.polygon.contains(Point(11.4375, 58.278, srid=4326))
    assert hotspot.priority == 3  # kept: --priority was not given this time
    district.refresh_from_db()
    assert district.polygon.contains(Point(11.4375, 58.2715, srid=4326))
    assert "0 new, 1 updated" in output


def test_it_shows_progress_on_one_line(db, tmp_path):
    path = write(
        tmp_path,
        collection(feature("Södra hamnen", polygon(HARBOUR_RING)), feature("Busstationen", polygon(STATION_RING))),
    )

    output = run(path, kind="hotspot")

    assert "\rImporting 1/2\rImporting 2/2\n" in output


GOOD = feature("Busstationen", polygon(STATION_RING))
BAD_FILES = {
    "not json": ("{ this is not json", "is not JSON"),
    "a feature, not a collection": (GOOD, "is not a GeoJSON FeatureCollection"),
    "a list": ([GOOD], "is not a GeoJSON FeatureCollection"),
    "no features list": ({"type": "FeatureCollection"}, "without a features list"),
    "a feature without geometry": (collection(GOOD, feature("Tom", None)), "Feature 1 has no geometry"),
    "a point feature": (
        collection(GOOD, feature("Punkt", {"type": "Point", "coordinates": [11.43, 58.27]})),
        "Feature 1 is a 'Point'",
    ),
    "a self-intersecting polygon": (
        collection(GOOD, feature("Fluga", polygon(BOWTIE_RING))),
        "Feature 1 (Fluga) has an invalid geometry",
    ),
    "an unreadable polygon": (
        collection(GOOD, feature("Trasig", {"type": "Polygon", "coordinates": [[[11.43, 58.27], [11.44, 58.28]]]})),
        "Feature 1 (Trasig) has a geometry that cannot be read",
    ),
    "a feature without a name": (
        collection(GOOD, feature("Södra hamnen", polygon(HARBOUR_RING)), feature(None, polygon(HARBOUR_RING))),
        "Feature 2 has no 'name' property",
    ),
    "two features with one name": (collection(GOOD, GOOD), "Feature 1 has the same name as feature 0"),
    "an unknown crs": (
        collection(GOOD, crs={"type": "name", "properties": {"name": "LOCAL:1"}}),
        "Unknown CRS",
    ),
}


@pytest.mark.parametrize("content, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_refused_and_nothing_is_written(db, tmp_path, content, message):
    path = write(tmp_path, content)

    with pytest.raises(CommandError, match=re.escape(message)):
        run(path, kind="hotspot")

    assert not Area.objects.exists()


def test_a_missing_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "saknas.geojson", kind="district")


def test_a_failure_while_writing_rolls_back_every_area(db, tmp_path, monkeypatch):
    path = write(
        tmp_path,
        collection(feature("Södra hamnen", polygon(HARBOUR_RING)), feature("Busstationen", polygon(STATION_RING))),
    )
    real_update_or_create = Area.objects.update_or_create
    calls = []

    def fail_on_second(**kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_update_or_create(**kwargs)

    monkeypatch.setattr(Area.objects, "update_or_create", fail_on_second)

    with pytest.raises(RuntimeError):
        run(path, kind="hotspot")

    assert not Area.objects.exists()
