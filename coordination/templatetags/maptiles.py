"""Template tags of the map pages: open the connection to the tile server before Leaflet asks for tiles."""

from urllib.parse import urlsplit

from django import template
from django.conf import settings
from django.utils.html import format_html_join

register = template.Library()


def tile_origins() -> list[str]:
    """The origins of the day and night tile URL templates ({s} subdomains cannot be named in advance)."""
    origins = []
    for url in (settings.LEAFLET_CONFIG["TILES"][0][1], settings.MAP_TILES_DARK_URL):
        parts = urlsplit(url or "")
        if parts.scheme in ("http", "https") and parts.netloc and "{" not in parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
    return origins


@register.simple_tag
def tile_preconnect() -> str:
    """<link rel="preconnect"> to each tile origin: the map's first tiles wait one connection less."""
    return format_html_join("\n", '<link rel="preconnect" href="{}">', ((origin,) for origin in tile_origins()))
