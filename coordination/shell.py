"""The field page's offline shell: the static files its service worker keeps (templates/coordination/sw.js)."""

import re
from functools import cache
from pathlib import PurePosixPath

from django.contrib.staticfiles import finders

# The page's entry module; everything it imports, directly or not, is part of the shell.
FIELD_ENTRY = "coordination/field.js"
# What field.html loads besides its modules. Not leaflet-src.js: django-leaflet loads it only with
# the DEBUG context variable, which this project does not set (leaflet.js is the same, minified).
FIELD_ASSETS = (
    "css/narvaro.css",
    "css/est.css",
    "js/theme.js",
    "js/leaflet-map.js",
    "js/where-next.js",
    "leaflet/leaflet.css",
    "leaflet/leaflet.extras.css",
    "leaflet/leaflet.js",
    "leaflet/leaflet.extras.js",
    "leaflet/draw/leaflet.draw.i18n.js",
    "img/icon.svg",
    "img/icon-192.png",
)
IMPORT = re.compile(r'^(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}/[^"]+)";', re.M | re.S)


def module_graph(entry: str) -> list[str]:
    """`entry` (a static path) and every module it imports by relative path, sorted."""
    found: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        path = finders.find(name)
        if path is None:
            raise FileNotFoundError(f"static file {name} (imported by the field page) is missing")
        with open(path, encoding="utf-8") as source:
            text = source.read()
        for relative in IMPORT.findall(text):
            joined = PurePosixPath(name).parent / relative
            todo.append(_normalise(joined))
    return sorted(found)


def _normalise(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


@cache
def field_shell() -> tuple[str, ...]:
    """The static paths the field page's service worker precaches: its modules and assets."""
    return tuple(module_graph(FIELD_ENTRY)) + FIELD_ASSETS
