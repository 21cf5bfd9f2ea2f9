"""Static files storage: WhiteNoise's compressed, hashed files, with ES module imports rewritten.

The pages load plain ES modules that import each other by relative path ("../js/ui.js"). With
hashed names a module must import the hashed copy of its neighbour, or a browser holding the old
module for a year (WhiteNoise's immutable cache) would mix versions; Django rewrites the import
statements when asked to (support_js_module_import_aggregation).
"""

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed names (cached for a year), gzip and Brotli copies, relative JS imports rewritten."""

    support_js_module_import_aggregation = True

    def url(self, name: str | None, force: bool = False) -> str:
        """The hashed name's URL also under DEBUG when STATIC_DEPLOYED (`make run`); Django's own gives the
        plain name whenever DEBUG is on, and WhiteNoise then serves it uncompressed and barely cached."""
        return super().url(name, force=force or getattr(settings, "STATIC_DEPLOYED", False))
