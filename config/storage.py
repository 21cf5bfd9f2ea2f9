"""Static files storage: WhiteNoise's compressed, hashed files, with ES module imports rewritten.

The pages load plain ES modules that import each other by relative path ("../js/ui.js"). With
hashed names a module must import the hashed copy of its neighbour, or a browser holding the old
module for a year (WhiteNoise's immutable cache) would mix versions; Django rewrites the import
statements when asked to (support_js_module_import_aggregation).
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed names (cached for a year), gzip and Brotli copies, relative JS imports rewritten."""

    support_js_module_import_aggregation = True
