"""Settings from the environment: small helpers that fail loudly on a bad value."""

import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines from `path` into os.environ without overriding what is set."""
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip())


def env_str(name: str, default: str | None = None) -> str:
    """Return the variable `name`; raise ImproperlyConfigured when unset and without default."""
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name} (see .env.example).")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    """Return a 0/1/true/false/yes/no variable as a bool; anything else is an error."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}.")


def env_int(name: str, default: int) -> int:
    """Return an integer variable; a value that is not a whole number is an error."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated variable as a list without empty items."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn postgis://user:pass@host:port/name into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgis", "postgres", "postgresql"):
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgis:// URL (PostgreSQL with PostGIS), not {parsed.scheme}://."
        )
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def channel_prefix_for(database: dict) -> str:
    """The channel-layer prefix of the deployment whose event log is `database` (a DATABASES entry).

    Events are numbered by their database; two deployments on one Redis (pub/sub channels are not
    separated by Redis database numbers) must never hear each other, so by default each database
    gets its own prefix.
    """
    where = f"{database.get('HOST', '')}:{database.get('PORT', '')}/{database['NAME']}"
    return "narvaro-" + hashlib.sha256(where.encode()).hexdigest()[:12]
