"""Settings come from the environment and fail loudly on a missing or wrong value."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parent.parent


PRINT_DEBUG = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def settings_import(**env) -> subprocess.CompletedProcess:
    """Import config.settings in a fresh interpreter with exactly `env` (no .env defaults win)."""
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


GOOD = {
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgis://u@127.0.0.1:5432/db",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DEBUG": "0",
}


def test_production_starts_with_a_real_secret():
    result = settings_import(**GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("secret", ["dev-only-not-secret", "short"])
def test_production_refuses_a_development_or_short_secret(secret):
    result = settings_import(**{**GOOD, "SECRET_KEY": secret})
    assert result.returncode != 0
    assert "SECRET_KEY must be a real secret" in result.stderr


def test_a_missing_database_url_names_the_variable(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_str("DATABASE_URL")


def test_a_database_that_is_not_postgis_is_refused():
    with pytest.raises(ImproperlyConfigured, match="postgis"):
        database_from_url("sqlite:///db.sqlite3")


def test_a_postgis_url_becomes_a_database_entry():
    db = database_from_url("postgis://me:p%40ss@db.example:5433/narvaro")
    assert (db["ENGINE"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.contrib.gis.db.backends.postgis",
        "me",
        "p@ss",
        "db.example",
        "5433",
        "narvaro",
    )


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("0", False), ("off", False)])
def test_booleans_read_the_usual_words(monkeypatch, value, expected):
    monkeypatch.setenv("X_FLAG", value)
    assert env_bool("X_FLAG") is expected


def test_a_boolean_that_is_neither_fails_loudly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG must be 0 or 1"):
        env_bool("X_FLAG")


def test_a_number_that_is_not_a_number_fails_loudly(monkeypatch):
    monkeypatch.setenv("X_DAYS", "two weeks")
    with pytest.raises(ImproperlyConfigured, match="X_DAYS must be a whole number"):
        env_int("X_DAYS", 14)


def test_lists_drop_empty_items(monkeypatch):
    monkeypatch.setenv("X_HOSTS", "a.se, ,b.se,")
    assert env_list("X_HOSTS") == ["a.se", "b.se"]


def test_the_deployment_speaks_swedish_first_in_stockholm_time(settings):
    assert settings.LANGUAGE_CODE == "sv"
    assert [code for code, _ in settings.LANGUAGES] == ["sv", "en"]
    assert settings.TIME_ZONE == "Europe/Stockholm" and settings.USE_TZ
