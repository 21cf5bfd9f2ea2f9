"""The files a deployer reads stay in step with the code: compose, .env.example, settings."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_read_from_the_environment_is_listed_in_env_example():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert read, "settings.py reads nothing from the environment?"
    assert read - listed == set()


def test_compose_runs_postgis_redis_the_app_under_daphne_and_the_worker():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "migrate", "app", "worker"}
    assert services["db"]["image"].startswith("postgis/postgis:")
    assert services["redis"]["image"].startswith("redis:")
    assert "daphne" in services["app"]["command"] and "config.asgi:application" in services["app"]["command"]
    assert services["worker"]["command"] == ["python", "manage.py", "worker"]
    assert "migrate" in services["migrate"]["command"]
    for name in ("migrate", "app", "worker"):  # one image and one environment
        assert services[name]["build"] == "." and services[name]["env_file"] == ".env"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgis://")
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("app", "worker"):  # both start on a migrated database
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert set(services[name]["depends_on"]) == {"migrate", "redis"}


def test_make_run_starts_the_worker_beside_daphne():
    makefile = (ROOT / "Makefile").read_text()
    serve = (ROOT / "scripts" / "serve").read_text()
    run = makefile.split("\nrun:")[1].split("\n\n")[0]
    assert "scripts/serve" in run
    assert "manage.py worker" in serve and "config.asgi:application" in serve


def test_the_ci_script_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme.split("## What runs where")[0]
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]


def test_the_migrations_match_the_models(db):
    from django.core.management import call_command

    # --check exits non-zero when a model change has no migration yet.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.asyncio
async def test_the_asgi_app_serves_the_static_files_daphne_alone_would_not():
    from asgiref.testing import ApplicationCommunicator

    from config.asgi import application

    for path in ("/static/css/narvaro.css", "/static/leaflet/leaflet.js", "/static/js/live.js"):
        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(timeout=5)
        assert (start["type"], start["status"]) == ("http.response.start", 200), path
        await communicator.wait(timeout=5)
