"""Närvaro settings. Everything that differs between machines comes from the environment."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import channel_prefix_for, database_from_url, env_bool, env_int, env_list, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
# scripts/services writes development defaults here; a real deployment sets its environment.
load_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not DEBUG and (SECRET_KEY.startswith("dev-") or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured("SECRET_KEY must be a real secret of 32+ characters when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "channels",
    "leaflet",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "maps",
    "coordination",
    # Accounts: lockout after failed sign-ins (and device tokens), the second factor.
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (compressed, hashed, cached for a year) before sessions and the rest.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages and JSON gzip-compressed when Daphne faces the browser itself (make run, a small deployment);
    # behind the TLS proxy Caddy compresses (Caddyfile `encode`). Static files leave before this, as
    # WhiteNoise's pre-compressed copies. Django pads the output against BREACH; CSRF tokens are masked.
    "django.middleware.gzip.GZipMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a second factor this session.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out attempt into the lockout answer (coordination/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.theme",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL"))}
# Several checkouts may share one PostgreSQL; each test run can name its own database.
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_narvaro")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# One prefix per event log (database) unless set: deployments sharing a Redis never hear each other.
# Tests always use their own (conftest.py), whatever this says.
CHANNEL_PREFIX = env_str("CHANNEL_PREFIX", "") or channel_prefix_for(DATABASES["default"])
# Redis pub/sub: a group message is published once and each server process fans it out to its
# own sockets in memory (the list layer pushed one copy per socket through Redis). A message the
# layer loses is repaired from the event log by the consumers (docs/protocol.md). The subclass
# only keeps a Redis outage from failing new sockets' handshakes (coordination/layer.py).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "coordination.layer.PubSubLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNEL_PREFIX},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Axes first: it refuses a locked-out account or address before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout (django-axes, coordination/lockout.py): LOGIN_FAILURE_LIMIT failed sign-ins (or codes)
# lock the account and, separately, the address; DEVICE_FAILURE_LIMIT failed device tokens from an
# address lock trackers and scripts there. The lock lifts after
# LOGIN_LOCKOUT_MINUTES (each further failure restarts it) or when an admin deletes the attempts.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
DEVICE_FAILURE_LIMIT = env_int("DEVICE_FAILURE_LIMIT", 20)
AXES_FAILURE_LIMIT = "coordination.lockout.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = "coordination.lockout.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "coordination.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "coordination.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Without this every manage.py command prints axes' start-up banner.
AXES_VERBOSE = False
# Axes keeps the query and form of a failed attempt: never a password, token or code.
AXES_SENSITIVE_PARAMETERS = ["password", "id", "deviceid", "token", "otp_token", "new_password1", "new_password2"]
# Second factor (django-otp, coordination/account_views.py): these roles (and superusers and
# staff) must enrol a TOTP authenticator and give a code at every sign-in; others may opt in.
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", "duty,partner,admin")
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Närvaro")
# Invitation links (coordination/services/accounts.py) and password-reset links expire.
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 7)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_HOURS", 24) * 3600
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "public"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Stockholm")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploads (photos of citizen reports): never served as static files, only through access-checked views.
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "media"))
MEDIA_URL = "media/"
SERVE_STATIC = env_bool("SERVE_STATIC", True)
if not SERVE_STATIC:  # a proxy serves STATIC_ROOT itself
    MIDDLEWARE.remove("whitenoise.middleware.WhiteNoiseMiddleware")
if env_bool("BEHIND_TLS_PROXY", False):  # the proxy compresses (see MIDDLEWARE)
    MIDDLEWARE.remove("django.middleware.gzip.GZipMiddleware")
# collectstatic writes hashed names (app.3f2a1c.js) with .gz and .br beside them; WhiteNoise serves
# those with a year's cache lifetime, and everything else (the unhashed names) briefly.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"},
}
# Static files as deployed: pages link the hashed names and WhiteNoise serves only what collectstatic
# wrote, compressed, the hashed names cached for a year. On whenever DEBUG is off; `make run`
# (scripts/serve) turns it on too, so the demo is as light as a deployment although its development
# .env sets DEBUG=1. Off (DEBUG and runserver while editing): static/ as it is, found on each request.
STATIC_DEPLOYED = env_bool("STATIC_DEPLOYED", not DEBUG)
if STATIC_DEPLOYED:
    WHITENOISE_USE_FINDERS = False
    WHITENOISE_AUTOREFRESH = False
    WHITENOISE_MAX_AGE = 60  # the unhashed names (a stale link, sw.js's own imports): a minute

# Privacy and protocol limits.
POSITION_RETENTION_DAYS = env_int("POSITION_RETENTION_DAYS", 14)
# Their own retention (days; 0 keeps them): situation notes (their hourly totals stay), chat, audit log.
# The worker's purge job deletes them; notes of a day only once the day's totals are stored.
NOTE_RETENTION_DAYS = env_int("NOTE_RETENTION_DAYS", 365)
CHAT_RETENTION_DAYS = env_int("CHAT_RETENTION_DAYS", 90)
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 730)
# The level rule of the EST situation picture (docs/lagesbild.md): an area's points for a week at which it
# turns yellow, orange, red, in that order (points = notes + 2 per high-severity note + 3 per alert).
LAGESBILD_LEVEL_THRESHOLDS = tuple(int(v) for v in env_list("LAGESBILD_LEVEL_THRESHOLDS", "3,8,15"))
if len(LAGESBILD_LEVEL_THRESHOLDS) != 3 or list(LAGESBILD_LEVEL_THRESHOLDS) != sorted(set(LAGESBILD_LEVEL_THRESHOLDS)):
    raise ImproperlyConfigured("LAGESBILD_LEVEL_THRESHOLDS must be three rising whole numbers: yellow,orange,red.")
REPLAY_WINDOW = env_int("REPLAY_WINDOW", 5000)  # events a reconnecting client may catch up
WS_MAX_FRAME_BYTES = env_int("WS_MAX_FRAME_BYTES", 8192)
WS_MAX_FRAMES_PER_SECOND = env_int("WS_MAX_FRAMES_PER_SECOND", 20)
POSITION_FLUSH_ROWS = env_int("POSITION_FLUSH_ROWS", 500)
# Field devices get other teams' positions this often (the duty map gets every flush).
FIELD_POSITION_TICK_S = env_int("FIELD_POSITION_TICK_S", 10)
# ...but only their own team and the teams near it (coordination/fieldscope.py): at most this many
# within about this radius, as deltas with the whole scope again every FIELD_POSITIONS_FULL_EVERY ticks.
FIELD_POSITIONS_RADIUS_M = env_int("FIELD_POSITIONS_RADIUS_M", 2000)
FIELD_POSITIONS_MAX_TEAMS = env_int("FIELD_POSITIONS_MAX_TEAMS", 30)
FIELD_POSITIONS_FULL_EVERY = env_int("FIELD_POSITIONS_FULL_EVERY", 30)
# Periods of the jobs on a clock, in seconds (coordination/jobs.py says what runs where). Once per
# deployment in `manage.py worker`: the coverage recount, the field tick above, presence totals of
# finished days, the retention purge. In every server process: the delivery sweep.
COVERAGE_EVERY_S = env_int("COVERAGE_EVERY_S", 2)
PRESENCE_EVERY_S = env_int("PRESENCE_EVERY_S", 3600)
PURGE_EVERY_S = env_int("PURGE_EVERY_S", 86400)
SWEEP_EVERY_S = env_int("SWEEP_EVERY_S", 2)
# Also in every server process: close sockets whose token was revoked or person deactivated.
ACCESS_CHECK_EVERY_S = env_int("ACCESS_CHECK_EVERY_S", 2)
for _name in (
    "FIELD_POSITION_TICK_S",
    "COVERAGE_EVERY_S",
    "PRESENCE_EVERY_S",
    "PURGE_EVERY_S",
    "SWEEP_EVERY_S",
    "ACCESS_CHECK_EVERY_S",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1 (seconds).")
# Alarms (coordination/services/alerts.py): unacknowledged this long, an alarm escalates to level 1
# (louder, repeated on every duty screen), after twice this to level 2 (also the second contact
# below). The worker checks every ALERT_ESCALATE_EVERY_S.
ALERT_ESCALATE_AFTER_S = env_int("ALERT_ESCALATE_AFTER_S", 120)
ALERT_ESCALATE_EVERY_S = env_int("ALERT_ESCALATE_EVERY_S", 5)
if ALERT_ESCALATE_AFTER_S < 1 or ALERT_ESCALATE_EVERY_S < 1:
    raise ImproperlyConfigured("ALERT_ESCALATE_AFTER_S and ALERT_ESCALATE_EVERY_S must be at least 1 (seconds).")
# The second contact at level 2 (coordination/notify.py): e-mail addresses and phone numbers, comma
# separated; the SMS hook is a class with send(*, to, text) (ConsoleSms prints, for development).
ALERT_NOTIFY_EMAILS = env_list("ALERT_NOTIFY_EMAILS", "")
ALERT_NOTIFY_SMS = env_list("ALERT_NOTIFY_SMS", "")
ALERT_SMS_BACKEND = env_str("ALERT_SMS_BACKEND", "coordination.notify.ConsoleSms")
_CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"
EMAIL_BACKEND = env_str("EMAIL_BACKEND", _CONSOLE_MAIL if DEBUG else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "narvaro@localhost")
# Citizen dialogue (coordination/services/dialogue.py): reports, photos and e-mail addresses are
# deleted after this many days (published reports keep only category, area and the answer);
# at most DIALOGUE_RATE_PER_HOUR reports an hour from one address.
DIALOGUE_RETENTION_DAYS = env_int("DIALOGUE_RETENTION_DAYS", 365)
DIALOGUE_RATE_PER_HOUR = env_int("DIALOGUE_RATE_PER_HOUR", 5)
# "naive" switches to one transaction and one group_send per position (the bench's peer).
POSITION_PIPELINE = env_str("POSITION_PIPELINE", "batched")
if POSITION_PIPELINE not in ("batched", "naive"):
    raise ImproperlyConfigured("POSITION_PIPELINE must be 'batched' or 'naive'.")

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (58.274, 11.437),
    "DEFAULT_ZOOM": 13,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 18,
    "RESET_VIEW": False,
    "TILES": [
        (
            "OpenStreetMap",
            env_str("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            {"attribution": "&copy; OpenStreetMap", "maxZoom": 19},
        )
    ],
}
# Night mode's map tiles (same {z}/{x}/{y} template as MAP_TILES_URL, e.g. a dark style of your tile
# server). Empty: the day tiles are darkened in the browser with a CSS filter instead.
MAP_TILES_DARK_URL = env_str("MAP_TILES_DARK_URL", "")


def _tile_origin(url: str) -> str:
    """The origin a tile URL template loads from, for img-src ({s} subdomains become a wildcard)."""
    parts = urlsplit(url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Content-Security-Policy (django-csp): scripts only from this origin (no inline script anywhere:
# data goes in json_script blocks; django-leaflet's map loader is replaced by static/js/leaflet-map.js,
# and its admin widget's inline script carries the request's nonce). Styles allow 'unsafe-inline':
# Leaflet writes style attributes into the map's markup (markers, popups, controls) and the API
# docs page has an inline <style>. Images: the tile server and data: (Leaflet's and segno's).
# connect-src: the live sockets (ws: in development, wss: behind the TLS proxy) and fetches.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:", *filter(None, [_tile_origin(LEAFLET_CONFIG["TILES"][0][1])])],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF, "ws:", "wss:"],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Bearer first: DRF takes the first class's challenge, so a request without credentials is a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coordination.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["coordination.api.parsers.LimitedJSONParser"],
    # JSON only: no browsable HTML on API routes.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["coordination.api.parsers.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "write": env_str("API_WRITE_RATE", "120/min"),
        "track": env_str("API_TRACK_RATE", "600/min"),
    },
    "EXCEPTION_HANDLER": "coordination.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Närvaro API",
    "DESCRIPTION": "Live situation picture, events, activity feeds and tracker endpoints. "
    "Errors are JSON {code, message, field?}. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema is public (it says nothing about the data); the operations check access themselves.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "coordination.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "NoteStatusEnum": "coordination.models.SituationNote.Status",
        "AlertStatusEnum": "coordination.models.Alert.Status",
        "ActivityStatusEnum": "maps.models.Activity.Status",
    },
}

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# HTTPS. In production a TLS-terminating proxy (Caddy in docker-compose.yml) sits in front of the app
# processes and speaks plain HTTP to them; it sets X-Forwarded-Proto itself and drops what a client
# sent, so that header may be trusted then, and only then (BEHIND_TLS_PROXY=1). The defaults suit
# development, the bench and the fault runs on loopback; .env.example holds the production values,
# and a test runs `manage.py check --deploy` on them.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# No query string reaches a log: on /track/ and /api/ they carry device tokens and positions
# (config/accesslog.py also strips them from Daphne's own access log).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_queries": {"()": "config.accesslog.RedactQueries"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_queries"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# GDAL 3.6 is what Debian 12 ships; we never open spatial references from user-supplied files
# through GDAL's network drivers (imports read GeoJSON with GEOS), so the warning is not actionable.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
