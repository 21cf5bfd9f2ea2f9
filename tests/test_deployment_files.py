"""The files a deployer reads stay in step with the code: compose, .env.example, settings."""

import os
import re
import secrets
import subprocess
import sys
import tomllib
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


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_compose_runs_a_tls_proxy_two_app_processes_the_worker_postgis_and_redis():
    services = compose_services()
    assert set(services) == {"proxy", "app1", "app2", "worker", "migrate", "db", "redis"}
    assert services["db"]["image"].startswith("postgis/postgis:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["proxy"]["image"].startswith("caddy:2")
    assert services["worker"]["command"] == ["python", "manage.py", "worker"]
    assert "migrate" in services["migrate"]["command"]
    for name in ("migrate", "app1", "app2", "worker"):  # one image and one environment
        assert services[name]["build"] == "." and services[name]["env_file"] == ".env"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgis://")
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("app1", "app2", "worker"):  # all start on a migrated database
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert set(services[name]["depends_on"]) == {"migrate", "redis"}


def test_only_the_proxy_faces_the_network_and_the_apps_trust_its_https_header():
    services = compose_services()
    assert {name for name, service in services.items() if "ports" in service} == {"proxy"}
    assert {port.split(":")[-1] for port in services["proxy"]["ports"]} >= {"80", "443"}
    for name in ("app1", "app2"):
        command = services[name]["command"]
        assert command[0] == "daphne" and "config.asgi:application" in command and "--proxy-headers" in command
        assert services[name]["expose"] == ["8000"]
        assert services[name]["environment"]["BEHIND_TLS_PROXY"] == "1"
    assert set(services["proxy"]["depends_on"]) == {"app1", "app2"}
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]


def test_the_caddyfile_serves_the_domain_over_both_app_processes_without_logging_tokens():
    caddyfile = (ROOT / "Caddyfile").read_text()
    lines = [line.split("#")[0].strip() for line in caddyfile.splitlines()]
    assert "{$NARVARO_DOMAIN} {" in lines
    upstreams = next(line for line in lines if line.startswith("reverse_proxy "))
    assert upstreams.split()[1:3] == ["app1:8000", "app2:8000"]
    assert "lb_try_duration 5s" in lines  # a dead app process is skipped for new requests and sockets
    # Sticky sessions would pin a socket to a process that may die; nothing here needs them.
    assert not any(line.startswith(("lb_policy cookie", "lb_policy ip_hash")) for line in lines)
    # The access log's URI filter, applied as Caddy applies it (Go's ReplaceAllString; `${1}` → `\g<1>`).
    pattern, replacement = re.search(r'^\s*request>uri regexp "(.+)" "(.+)"$', caddyfile, flags=re.M).groups()
    logged = {
        uri: re.sub(pattern, re.sub(r"\$\{(\d)\}", r"\\g<\1>", replacement), uri)
        for uri in ("/track/?id=8f2a9c&lat=58.27&lon=11.44", "/tips/status/Zq3xP0k/", "/jour/")
    }
    assert logged == {
        "/track/?id=8f2a9c&lat=58.27&lon=11.44": "/track/?REDACTED",  # the OsmAnd token and position
        "/tips/status/Zq3xP0k/": "/tips/status/REDACTED/",  # a citizen's private status link
        "/jour/": "/jour/",
    }


def production_environment() -> dict[str, str]:
    """.env.example as a deployment sets it, with a real secret and loopback addresses for the check."""
    env = dict(re.findall(r"^([A-Z_]+)=(.*)$", (ROOT / ".env.example").read_text(), flags=re.M))
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgis://narvaro@127.0.0.1:1/narvaro",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    return {key: value for key, value in env.items() if value}


def test_the_production_settings_behind_the_tls_proxy_pass_the_deployment_checks():
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **production_environment()}
    assert env["DEBUG"] == "0" and env["BEHIND_TLS_PROXY"] == "1"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_proxy_header_is_trusted_only_behind_the_proxy():
    code = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **production_environment()}
    for behind, expected in (("1", "('HTTP_X_FORWARDED_PROTO', 'https')"), ("0", "None")):
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT,
            env={**base, "BEHIND_TLS_PROXY": behind},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.strip() == expected, result.stderr


def test_make_run_starts_the_worker_beside_daphne():
    makefile = (ROOT / "Makefile").read_text()
    serve = (ROOT / "scripts" / "serve").read_text()
    run = makefile.split("\nrun:")[1].split("\n\n")[0]
    assert "scripts/serve" in run
    assert "manage.py worker" in serve and "config.asgi:application" in serve


def test_the_ci_script_runs_the_readme_test_command_then_the_faults():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme.split("## What runs where")[0]
    assert "make faults" in readme
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert commands == ["make test", "make faults"]


def test_make_test_never_collects_the_fault_scenarios():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "faults" not in pyproject["tool"]["pytest"]["ini_options"]["testpaths"]
    makefile = (ROOT / "Makefile").read_text()
    assert "$(VENV)/bin/pytest -c faults/pytest.ini faults" in makefile.split("\nfaults:")[1].split("\n\n")[0]


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
