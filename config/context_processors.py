"""Template context every page needs: the colour scheme the reader chose."""

from django.conf import settings
from django.http import HttpRequest

# The cookie static/js/theme.js writes; without it the page follows the device's setting.
THEME_COOKIE = "theme"
THEMES = ("light", "dark")


def theme(request: HttpRequest) -> dict:
    """`theme` ("light", "dark" or "" to follow prefers-color-scheme) and the night map tiles' URL.

    Read from a cookie by the server so the page is drawn in its scheme from the first paint,
    without an inline script (the Content-Security-Policy forbids those).
    """
    chosen = request.COOKIES.get(THEME_COOKIE, "")
    return {"theme": chosen if chosen in THEMES else "", "map_tiles_dark": settings.MAP_TILES_DARK_URL}
