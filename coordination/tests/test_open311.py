"""Open311 GeoReport v2 (issue 14, item 7), driven by the requests of the spec's own examples
(http://wiki.open311.org/GeoReport_v2/): only the host differs."""

from xml.etree import ElementTree

import pytest
from django.test import Client

from coordination import services
from coordination.models import CitizenReport

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"

# The spec's example POST Service Request body, byte for byte (api.city.gov/dev/v2/requests.xml).
SPEC_POST = (
    "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
    "&address_string=1234+5th+street&email=smit222%40sfgov.org&device_id=tt222111&account_id=123456"
    "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Fonline.sfsu.edu%2F%7Ekazemi%2Fwater%2Fmedia%2Fimages%2FInfluence%2520of%2520Coasts"
    "%2Fsinkhole.jpg&attribute[WHISETN]=123&attribute[WHISETN]=456"
)
FORM = "application/x-www-form-urlencoded"


def post(fmt: str, body: str = SPEC_POST, **extra):
    return Client(**extra).post(f"{BASE}/requests.{fmt}", body, content_type=FORM)


def test_get_service_list_as_the_spec_example_asks_in_xml_and_json(world):
    xml = Client().get(f"{BASE}/services.xml?jurisdiction_id=city.gov")
    assert xml.status_code == 200 and xml["Content-Type"].startswith("text/xml")
    services_ = ElementTree.fromstring(xml.content)
    assert services_.tag == "services"
    first = services_.find("service")
    assert [child.tag for child in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert first.findtext("service_code") == "001" and first.findtext("metadata") == "false"
    listed = Client().get(f"{BASE}/services.json").json()
    assert len(listed) == 8 and listed[0]["service_code"] == "001" and listed[0]["type"] == "batch"


def test_the_spec_example_post_creates_a_report_and_answers_with_its_id(world):
    answer = post("xml")
    assert answer.status_code == 201
    request = ElementTree.fromstring(answer.content)
    assert request.tag == "service_requests"
    created = request.find("request")
    assert [child.tag for child in created] == ["service_request_id", "service_notice", "account_id"]
    report = CitizenReport.objects.get(pk=int(created.findtext("service_request_id")))
    assert report.category == "lighting" and report.text == "A large sinkhole is destroying the street"
    assert report.email == "smit222@sfgov.org"
    assert (report.point.y, report.point.x) == (37.76524078, -122.4212043)
    assert not report.published  # a moderator decides, as for the form


def test_the_spec_example_post_in_json_and_the_names_and_phone_are_never_kept(world):
    answer = post("json")
    assert answer.status_code == 201
    [created] = answer.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    stored = CitizenReport.objects.get(pk=created["service_request_id"])
    kept = str(CitizenReport.objects.filter(pk=stored.pk).values().get())
    for dropped in ("john", "smith", "111111111", "tt222111", "123456", "sinkhole.jpg"):
        assert dropped not in kept


def test_errors_come_in_the_spec_format(world):
    missing = Client().post(f"{BASE}/requests.json", "lat=58.27&long=11.44", content_type=FORM)
    assert missing.status_code == 400
    assert missing.json() == [{"code": 400, "description": "service_code is required"}]
    unknown = Client().post(f"{BASE}/requests.xml", "service_code=999&lat=58.27&long=11.44", content_type=FORM)
    errors = ElementTree.fromstring(unknown.content)
    assert unknown.status_code == 404 and errors.tag == "errors"
    assert errors.find("error").findtext("code") == "404"
    screened = Client().post(
        f"{BASE}/requests.json",
        "service_code=005&lat=58.27&long=11.44&description=Ring+0701234567",
        content_type=FORM,
    )
    assert screened.status_code == 400 and "telefonnummer" in screened.json()[0]["description"]
    assert not CitizenReport.objects.exists()


def test_get_requests_lists_only_published_ones_with_the_spec_fields(world):
    services.report_submit(category="lighting", text="Hemlig text", lat=58.2755, lon=11.4458, email="k@example.se")
    shown, _ = services.report_submit(category="wish", text="En skatepark", lat=58.2755, lon=11.4458)
    services.report_publish(user=world.dana, report_id=shown.pk, level="point")
    services.report_answer(user=world.dana, report_id=shown.pk, answer="Vi tar med det i budgeten.")
    listed = Client().get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [shown.pk]
    row = listed[0]
    assert set(row) == {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    }
    assert row["status"] == "open" and row["status_notes"] == "Vi tar med det i budgeten."
    assert row["service_code"] == "007" and row["address"] == "Hamnen" and row["description"] is None
    assert (row["lat"], row["long"]) == (58.276, 11.446)
    body = Client().get(f"{BASE}/requests.xml").content.decode()
    assert "Hemlig text" not in body and "En skatepark" not in body and "k@example.se" not in body


def test_the_spec_example_get_with_dates_and_status_and_one_by_id(world):
    shown, _ = services.report_submit(category="wish", text="En skatepark", lat=58.2755, lon=11.4458)
    services.report_publish(user=world.dana, report_id=shown.pk)
    hidden, _ = services.report_submit(category="wish", text="Något annat", lat=58.2755, lon=11.4458)
    # The spec's example: requests.xml?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open
    old = Client().get(f"{BASE}/requests.xml?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open")
    assert old.status_code == 200 and ElementTree.fromstring(old.content).findall("request") == []
    now = Client().get(f"{BASE}/requests.json?start_date=2020-01-01T00:00:00Z&status=open").json()
    assert [r["service_request_id"] for r in now] == [shown.pk]
    assert Client().get(f"{BASE}/requests.json?status=closed").json() == []
    one = ElementTree.fromstring(Client().get(f"{BASE}/requests/{shown.pk}.xml").content)
    assert one.find("request").findtext("service_request_id") == str(shown.pk)
    missing = Client().get(f"{BASE}/requests/{hidden.pk}.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
