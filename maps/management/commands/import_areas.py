"""`manage.py import_areas FILE --kind district|hotspot`: load named polygons from a GeoJSON file."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from maps.models import Area

NAME_MAX_LENGTH = Area._meta.get_field("name").max_length
# GeoJSON 2008's named CRS: "EPSG:3006", "urn:ogc:def:crs:EPSG::3006"; CRS84 is plain WGS84 lon/lat.
EPSG_NAME = re.compile(r"EPSG:(?:[\d.]*:)?(\d+)$", re.IGNORECASE)
WGS84_NAMES = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "CRS84"}


@dataclass(frozen=True)
class AreaIn:
    """One feature of the file, checked and in SRID 4326."""

    index: int
    name: str
    polygon: MultiPolygon


def declared_srid(collection: dict) -> int:
    """The SRID the file declares with a (pre-RFC 7946) `crs` member; 4326 when it declares none."""
    crs = collection.get("crs")
    if crs is None:
        return 4326
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str):
        raise CommandError("The file's crs member has no name; only named CRS such as EPSG:3006 are understood.")
    if name in WGS84_NAMES:
        return 4326
    match = EPSG_NAME.search(name)
    if match is None:
        raise CommandError(f"Unknown CRS {name!r}; use an EPSG code such as EPSG:3006.")
    return int(match.group(1))


def read_collection(path: Path) -> dict:
    """The parsed FeatureCollection in `path`; CommandError when it is missing or something else."""
    if not path.is_file():
        raise CommandError(f"No such file: {path}")
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CommandError(f"{path} is not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise CommandError(f"{path} is not a GeoJSON FeatureCollection.")
    if not isinstance(data.get("features"), list):
        raise CommandError(f"{path} is a FeatureCollection without a features list.")
    return data


def area_from_feature(index: int, feature, *, srid: int, name_property: str) -> AreaIn:
    """Check one feature (polygon, valid, named) and return it as a MultiPolygon in 4326."""
    where = f"Feature {index}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise CommandError(f"{where} is not a GeoJSON Feature.")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise CommandError(f"{where} has no geometry.")
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise CommandError(f"{where} is a {geometry.get('type')!r}; only Polygon and MultiPolygon can be areas.")
    properties = feature.get("properties") or {}
    name = properties.get(name_property) if isinstance(properties, dict) else None
    if name is None or not str(name).strip():
        raise CommandError(f"{where} has no {name_property!r} property (choose another with --name-property).")
    name = str(name).strip()
    if len(name) > NAME_MAX_LENGTH:
        raise CommandError(f"{where}: the name {name[:40]!r}… is longer than {NAME_MAX_LENGTH} characters.")
    try:
        geom = GEOSGeometry(json.dumps(geometry))
        # The file's CRS wins over GDAL's GeoJSON default of 4326.
        geom.srid = srid
        if geom.hasz:
            # The column is 2D; heights in survey exports carry no meaning for an area.
            ogr = geom.ogr
            ogr.coord_dim = 2
            geom = ogr.geos
        if srid != 4326:
            geom.transform(4326)
    except (GDALException, GEOSException, ValueError, TypeError) as error:
        raise CommandError(f"{where} ({name}) has a geometry that cannot be read: {error}") from None
    if geom.empty:
        raise CommandError(f"{where} ({name}) has an empty geometry.")
    if not geom.valid:
        raise CommandError(f"{where} ({name}) has an invalid geometry: {geom.valid_reason}")
    polygon = geom if isinstance(geom, MultiPolygon) else MultiPolygon(geom, srid=4326)
    return AreaIn(index=index, name=name, polygon=polygon)


class Command(BaseCommand):
    help = "Import the polygons of a GeoJSON FeatureCollection as districts or hotspots, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A GeoJSON FeatureCollection of Polygon/MultiPolygon features.")
        parser.add_argument("--kind", required=True, choices=[Area.Kind.DISTRICT, Area.Kind.HOTSPOT])
        parser.add_argument("--name-property", default="name", help="The feature property holding the name.")
        parser.add_argument(
            "--priority", type=int, default=None, help="Priority of every imported area (new ones default to 0)."
        )

    def handle(self, *args, file: Path, kind: str, name_property: str, priority: int | None, **options) -> None:
        if priority is not None and not 0 <= priority <= 32767:
            raise CommandError("--priority must be between 0 and 32767.")
        collection = read_collection(file)
        srid = declared_srid(collection)
        features = collection["features"]
        if not features:
            self.stdout.write(f"{file} has no features; nothing imported.")
            return

        # Read and check every feature before writing any, so a bad feature 90 of 100 costs nothing.
        areas: list[AreaIn] = []
        seen: dict[str, int] = {}
        for index, feature in enumerate(features):
            area = area_from_feature(index, feature, srid=srid, name_property=name_property)
            if area.name in seen:
                raise CommandError(f"Feature {index} has the same name as feature {seen[area.name]}: {area.name!r}.")
            seen[area.name] = index
            areas.append(area)
            self._progress("Checking", index + 1, len(features))

        created = 0
        with transaction.atomic():
            for done, area in enumerate(areas, start=1):
                defaults: dict = {"polygon": area.polygon}
                if priority is not None:
                    defaults["priority"] = priority
                _, was_created = Area.objects.update_or_create(name=area.name, kind=kind, defaults=defaults)
                created += was_created
                self._progress("Importing", done, len(areas))
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(areas)} {kind} areas: {created} new, {len(areas) - created} updated.")
        )

    def _progress(self, label: str, done: int, total: int) -> None:
        """A one-line counter rewritten in place; the last call ends the line."""
        ending = "\n" if done == total else ""
        self.stdout.write(f"\r{label} {done}/{total}", ending=ending)
        self.stdout.flush()
