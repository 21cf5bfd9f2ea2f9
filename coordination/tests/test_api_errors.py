"""API errors are JSON `{code, message}` with the right status, never an HTML page or a traceback."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from coordination import selectors, services
from coordination.api.parsers import MAX_BODY_BYTES
from coordination.tests.sockets import new_id
from coordination.tests.test_api_snapshot_events import client_for

pytestmark = pytest.mark.django_db


def json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["message"]
    return body


@pytest.mark.parametrize("path", ["/api/nothing/", "/api/notes/1/", "/api/snapshot", "/track/", "/track/gpx/"])
def test_an_unknown_api_or_tracker_address_is_a_json_404(world, path):
    json_error(APIClient().get(path), 404, "not_found")


def test_a_method_the_endpoint_does_not_have_is_a_json_405(world):
    json_error(client_for(world.dana).delete("/api/notes/"), 405, "method_not_allowed")


def test_a_body_that_is_not_json_is_400(world):
    response = client_for(world.dana).post("/api/notes/", "{not json", content_type="application/json")
    json_error(response, 400, "invalid")


def test_a_body_of_another_media_type_is_415(world):
    response = client_for(world.dana).post("/api/notes/", "category=other", content_type="text/plain")
    json_error(response, 415, "unsupported_media_type")


def test_a_body_over_the_limit_is_413_and_stores_nothing(world):
    text = "x" * (MAX_BODY_BYTES + 1)
    response = client_for(world.dana).post("/api/notes/", {"category": "other", "text": text})
    json_error(response, 413, "too_large")


def test_a_tracker_form_over_the_limit_is_413(world):
    body = "lat=58.1&lon=11.4&pad=" + "x" * MAX_BODY_BYTES
    response = APIClient().post("/track/osmand/?id=x", body, content_type="application/x-www-form-urlencoded")
    json_error(response, 413, "too_large")


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"write": "2/min"}})
def test_too_many_writes_are_429_with_retry_after(world):
    cache.clear()
    client = client_for(world.dana)
    try:
        for _ in range(2):
            assert client.post("/api/notes/", {"category": "other"}).status_code == 201
        response = client.post("/api/notes/", {"category": "other"})
        json_error(response, 429, "rate_limited")
        assert int(response["Retry-After"]) > 0
        assert client.get("/api/notes/").status_code == 200  # reads are not counted
    finally:
        cache.clear()


def test_a_bug_is_a_json_500_without_a_traceback(world, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "live_snapshot", broken)
    response = client_for(world.dana).get("/api/snapshot/")
    json_error(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert "secret internals" in caplog.text  # logged for the operator


def test_the_schema_is_public_openapi_3(world):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/snapshot/", "/api/events/", "/track/osmand/", "/track/owntracks/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["deviceToken"]["scheme"] == "bearer"


def test_the_docs_page_is_swagger_ui_served_by_the_app(world):
    response = APIClient().get("/api/docs/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    page = response.content.decode()
    # No inline script (Content-Security-Policy): the page loads its start-up script, which names the schema.
    assert '<script src="/api/docs/?script=' in page and "<script>" not in page
    script = APIClient().get("/api/docs/?script=").content.decode()
    assert "/api/schema/" in script
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "https://" not in page and "//cdn" not in page


def test_a_tracker_over_its_rate_is_429(world):
    services.shift_start(user=world.alice, client_id=new_id())
    key = services.device_token_issue(user=world.alice)[1]
    rates = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"track": "1/min"}}
    cache.clear()
    try:
        with override_settings(REST_FRAMEWORK=rates):
            assert APIClient().post(f"/track/osmand/?id={key}&lat=58.2755&lon=11.445").status_code == 200
            json_error(APIClient().post(f"/track/osmand/?id={key}&lat=58.2755&lon=11.445"), 429, "rate_limited")
    finally:
        cache.clear()
