"""Property-based test of the REST API against its own OpenAPI schema (schemathesis, in-process).

Every operation gets a bounded number of generated requests from duty's device; no answer may be a
5xx, and every answer must match what /api/schema/ documents (status, media type, body).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from coordination import services

pytestmark = pytest.mark.django_db


# Loaded once at collection (the schema needs no database). schemathesis.pytest.from_fixture would
# load it per test, but its lazy loader reads a pytest-internal attribute that pytest 9 removed.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def same_connection(world):
    """The app runs in this thread inside the test's transaction: Django must not close the
    connection at the end of each request as it would in a real server."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def no_lockout(settings):
    """The fuzzer sends wrong tokens by the hundred; its failures are counted (that path runs) but never
    lock the test's address out (coordination/tests/test_lockout.py tests the lockout)."""
    settings.AXES_FAILURE_LIMIT = 1_000_000


@pytest.fixture
def duty_token(world) -> str:
    return services.device_token_issue(user=world.dana, name="schemathesis")[1]


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says_and_never_with_a_5xx(case, duty_token):
    # positive_data_acceptance is left out: the services refuse some schema-valid requests by rules
    # a schema cannot state (lat without lon, an end before the start, a phone number in a note,
    # an `after` older than the replay window), and those refusals are the documented 4XX.
    # Accept-Encoding: identity, as the WSGI test client does not inflate a gzipped body the way an
    # HTTP client does (GZipMiddleware compresses for clients that ask; tests/test_static_files.py).
    case.call_and_validate(
        headers={"Authorization": f"Bearer {duty_token}", "Accept-Encoding": "identity"},
        excluded_checks=[checks.positive_data_acceptance],
    )
