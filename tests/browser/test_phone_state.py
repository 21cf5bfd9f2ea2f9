"""static/coordination/field/state.js: the phone's lines say only what real state supports."""

import pytest

LINE = """
async (args) => {
  const { sharingLine } = await import("/static/coordination/field/state.js");
  return sharingLine({ now: Date.parse("2026-12-01T21:40:00Z"), ...args }, "sv-SE");
}
"""
PAGE = """
async (args) => {
  const { pageLine } = await import("/static/coordination/field/state.js");
  return pageLine(args, "sv-SE");
}
"""
# 22:31 and 22:14 in Stockholm (UTC+1 in December).
ACKED = "Date.parse('2026-12-01T21:31:00Z')"
SHARING = {"onShift": True, "consent": "yes", "paused": False, "geoError": None, "hasFix": True, "status": "online"}


def line(page, **state) -> dict:
    return page.evaluate(LINE, {**SHARING, "lastAck": None, "oldestQueued": None, **state})


def at(page, iso: str) -> int:
    return page.evaluate(f"Date.parse('{iso}')")


def test_acknowledged_and_online_says_the_duty_officer_sees_me_and_when(static_page):
    result = line(static_page, lastAck=at(static_page, "2026-12-01T21:31:00Z"))
    assert (result["state"], result["text"]) == ("on", "Jouren ser dig – senast 22:31")


def test_offline_says_since_when_nothing_was_sent_and_that_it_is_kept(static_page):
    result = line(
        static_page,
        status="offline",
        lastAck=at(static_page, "2026-12-01T21:14:00Z"),
        oldestQueued=at(static_page, "2026-12-01T21:15:00Z"),
    )
    assert (result["state"], result["text"]) == ("queued", "Inte skickat sedan 22:14 – sparas på telefonen")


def test_a_position_stuck_in_the_outbox_on_an_open_socket_is_not_called_sent(static_page):
    result = line(
        static_page,
        lastAck=at(static_page, "2026-12-01T21:14:00Z"),
        oldestQueued=at(static_page, "2026-12-01T21:20:00Z"),  # 20 minutes unanswered
    )
    assert result["state"] == "queued"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"status": "signed_out"}, ("signed_out", True)),
        # The session went with this phone's picture of the shift: still "log in", never a quiet "off".
        ({"status": "signed_out", "onShift": False}, ("signed_out", True)),
        ({"consent": "ask"}, ("ask", False)),
        ({"consent": "no"}, ("paused", False)),
        ({"paused": True}, ("paused", False)),
        ({"geoError": "User denied Geolocation"}, ("error", False)),
        ({"hasFix": False}, ("waiting", False)),
        ({"onShift": False}, ("off", False)),
    ],
)
def test_every_other_state_is_named_and_only_a_lost_session_asks_to_log_in(static_page, state, expected):
    result = line(static_page, lastAck=at(static_page, "2026-12-01T21:31:00Z"), **state)
    assert (result["state"], result["login"]) == expected


def test_the_page_line_gives_the_age_of_the_data_when_not_live(static_page):
    data_at = at(static_page, "2026-12-01T21:14:00Z")
    assert static_page.evaluate(PAGE, {"status": "online", "dataAt": data_at}) is None
    offline = static_page.evaluate(PAGE, {"status": "offline", "dataAt": data_at})
    assert offline == {"state": "offline", "text": "Ingen anslutning. Data från 22:14", "login": False}
    signed_out = static_page.evaluate(PAGE, {"status": "signed_out", "dataAt": data_at})
    assert signed_out["login"] is True and signed_out["text"].startswith("Du är utloggad.")
