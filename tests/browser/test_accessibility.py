"""axe-core on every page, for the role that uses it, by day and by night: no critical or serious finding.

A page added later is one line in PAGES: (name, who opens it, path, viewport).
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from coordination import services
from maps.models import Activity
from tests.browser.conftest import DESKTOP, HARBOUR, PHONE, off_loop
from tests.browser.test_screens import evening

User = get_user_model()
SERIOUS = ("critical", "serious")

# Who is one of World's people (conftest.py) or None for the public; {activity} is an activity's id.
PAGES = [
    ("public map", None, "/", PHONE),
    ("public map, wide", None, "/", DESKTOP),
    ("login", None, "/konto/logga-in/", PHONE),
    ("home (duty officer who is also staff)", "dana", "/start/", PHONE),
    ("field, on shift", "alice", "/falt/", PHONE),
    ("field, off shift", "charlie", "/falt/", PHONE),
    ("duty map", "dana", "/jour/", DESKTOP),
    ("duty map, partner reading", "frida", "/jour/", DESKTOP),
    ("association", "erik", "/forening/", DESKTOP),
    ("activity edit", "erik", "/forening/{activity}/", PHONE),
    ("refused (no role)", "gustav", "/jour/", PHONE),
    ("citizen report form", None, "/tips/", PHONE),
    ("citizen reports queue, one taken", "dana", "/jour/tips/", DESKTOP),
    ("weekly picture, partner reading", "frida", "/lagesbild/", DESKTOP),
]


def reports_waiting_and_taken(world) -> None:
    """Two citizen reports: one waits on the duty map, Dana took the other (the queue names her)."""
    services.report_submit(
        category="lighting", text="Mörkt vid stigen", lat=HARBOUR["latitude"], lon=HARBOUR["longitude"]
    )
    taken, _ = services.report_submit(category="other", text="Bänken är sönder", **{"lat": 58.276, "lon": 11.446})
    services.report_take(user=world.dana, report_id=taken.pk)


def findings(page) -> list[str]:
    """The critical and serious axe-core violations on `page`, one readable line each."""
    result = Axe().run(page)
    lines = []
    for violation in result.response["violations"]:
        if violation["impact"] not in SERIOUS:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:4]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return lines


@pytest.mark.timeout(600)  # fourteen pages, each opened and checked: about two minutes on a busy machine
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe_for_its_role_by_day_and_by_night(world, browsers, scheme):
    off_loop(evening, world)  # a lived-in evening: teams, notes, an alarm, activities, chat
    off_loop(reports_waiting_and_taken, world)
    User.objects.filter(pk=world.dana.pk).update(is_staff=True)  # two screens: the home page shows them
    activity = off_loop(lambda: Activity.objects.order_by("pk").first().pk)
    problems: dict[str, list[str]] = {}
    for name, who, path, viewport in PAGES:
        user = getattr(world, who) if who else None
        context = browsers.context(user, viewport=viewport, geolocation=HARBOUR, color_scheme=scheme)
        page = context.new_page()
        page.goto(path.format(activity=activity))
        if page.locator("#connection").count():
            expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        page.wait_for_timeout(300)  # markers, lists and fonts settle
        found = findings(page)
        if found:
            problems[name] = found
        context.close()
    assert problems == {}


def test_the_check_itself_finds_faint_text_and_a_button_without_a_name(static_page):
    """So that an empty list above means a clean page, not a check that saw nothing."""
    static_page.set_content(
        '<!doctype html><html lang="sv"><head><title>Prov</title></head><body><main>'
        '<p style="color:#999;background:#aaa">Svag text</p><div role="button" tabindex="0"></div>'
        "</main></body></html>"
    )
    found = " ".join(findings(static_page))
    assert "color-contrast (serious)" in found
    assert "aria-command-name (serious)" in found
