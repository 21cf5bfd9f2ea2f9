"""ASGI entry point: Django's HTTP app first, then the WebSocket routes behind authentication."""

import os

from django.core.asgi import get_asgi_application

from config.accesslog import install as access_log_without_queries
from config.collector import install as tune_collector
from config.daphne_speed import install as daphne_speed

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Daphne builds its access log after importing this module: device tokens in query strings never reach it.
access_log_without_queries()
# What Daphne spends per frame and per socket, trimmed (config/daphne_speed.py says what and why).
daphne_speed()
# Build the HTTP app before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from coordination.auth import websocket_auth  # noqa: E402
from coordination.jobs import process_jobs_start  # noqa: E402
from coordination.routing import websocket_urlpatterns  # noqa: E402

# Daphne serves no static files by itself; without a proxy in front (make run, the demo, a small
# deployment) WhiteNoise's middleware serves them, compressed and with cache lifetimes (see
# settings.STORAGES). SERVE_STATIC=0 takes it out when a proxy serves STATIC_ROOT instead.
http_app = django_asgi_app

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": websocket_auth(URLRouter(websocket_urlpatterns)),
    }
)
# Work on a clock that each server process does for its own sockets (the delivery sweep) starts
# here, on purpose, once the server's event loop runs; the once-per-deployment jobs run in
# `manage.py worker`. coordination/jobs.py says what runs where.
process_jobs_start()
# What was built up to here lives as long as the process: it leaves the garbage collector's walks,
# and the collector waits longer before it looks at new objects (config/collector.py says why).
tune_collector()
