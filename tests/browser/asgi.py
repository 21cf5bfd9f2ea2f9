"""The app as the browser tests serve it: config.asgi plus static files, as runserver would add."""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from config.asgi import application as app

# Daphne alone serves no static files; a deployment puts them behind the proxy (collectstatic).
application = ASGIStaticFilesHandler(app)
