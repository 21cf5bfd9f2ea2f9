"""static/js/live.js against the real server: catching up after a reconnect, and resync."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from coordination import access, selectors, services
from coordination.models import SituationNote
from coordination.tests.sockets import new_id
from tests.browser.conftest import HARBOUR, off_loop

# A second Live on the public socket, beside the page's own; its picture is readable from the test.
START = """
async ([snapshot, url]) => {
  const { Live } = await import("/static/js/live.js");
  window.changes = [];
  window.probe = new Live({
    path: "/ws/public/", snapshot, snapshotUrl: url, publicOnly: true,
    handlers: { change: (event) => window.changes.push(event ? event.kind : "reload") },
  });
  await window.probe.start();
}
"""
TITLES = "[...window.probe.state.features.values()].map((f) => f.properties.title).filter(Boolean)"


def announce(world, title: str) -> None:
    start = timezone.now() + timedelta(hours=1)
    services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title=title,
        place=world.place.pk,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )


def public_snapshot() -> dict:
    return selectors.live_snapshot(viewer=access.ANONYMOUS)


def test_after_a_dropped_socket_the_page_says_hello_and_catches_up(world, browsers):
    page = browsers.page(None, "/")
    page.evaluate(START, [off_loop(public_snapshot), "/lage.json"])
    # Functions, not expression strings: Playwright evals a string in the page, which the CSP refuses.
    page.wait_for_function("() => window.probe.status === 'online'")
    page.evaluate("window.probe.socket.close()")  # as a server restart or a dead zone would
    off_loop(announce, world, "Öppen hall")  # published while the probe is away
    page.wait_for_function(f"() => {TITLES}.includes('Öppen hall')", timeout=5000)
    assert page.evaluate("window.probe.status") == "online"
    assert "reload" not in page.evaluate("window.changes")  # replayed, not reloaded


def test_a_resync_reloads_the_snapshot(world, browsers):
    off_loop(announce, world, "Seglarkväll")
    page = browsers.page(None, "/")
    # A seq the server's log has not reached: it answers resync, and the page fetches the snapshot.
    stale = {"type": "FeatureCollection", "seq": 10**12, "features": []}
    page.evaluate(START, [stale, "/lage.json"])
    page.wait_for_function(f"() => {TITLES}.includes('Seglarkväll')", timeout=5000)
    assert page.evaluate("window.changes")[0] == "reload"
    assert page.evaluate("window.probe.state.seq") < 10**12
    expect(page.locator("#upcoming")).to_contain_text("Seglarkväll")


PUT_IN_OUTBOX = """
([name, item]) => new Promise((resolve, reject) => {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore("items", { keyPath: "id" });
  open.onsuccess = () => {
    const tx = open.result.transaction("items", "readwrite");
    tx.objectStore("items").put(item);
    tx.oncomplete = () => { open.result.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
})
"""


def test_a_frame_stored_before_its_ack_was_lost_is_not_stored_again(world, browsers):
    # The server stored the note, but the phone never heard the ack: it is still in the outbox.
    client_id = new_id()
    off_loop(services.shift_start, user=world.alice, client_id=new_id())
    off_loop(services.note_create, user=world.alice, client_id=client_id, category="other", text="Redan sparad")
    page = browsers.page(world.alice, "/falt/", geolocation=HARBOUR)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    frame = {"type": "note", "id": client_id, "category": "other", "text": "Redan sparad"}
    page.evaluate(PUT_IN_OUTBOX, [f"narvaro-outbox-{world.alice.pk}", {"id": client_id, "frame": frame, "created": 0}])

    page.reload()  # the page starts with the queued frame and sends it again, same id
    expect(page.locator("#my-feed .note-item")).to_contain_text("Redan sparad")
    expect(page.locator("#toast")).to_have_text("Skickat.")  # an ack (with the original seq), not an error
    expect(page.locator("#outbox-card")).to_be_hidden()
    assert SituationNote.objects.filter(text="Redan sparad").count() == 1


def test_a_field_page_fetches_its_picture_again_when_its_own_team_goes_out(world, browsers):
    page = browsers.page(world.alice, "/falt/", geolocation=HARBOUR)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if "/api/snapshot/" in request.url else None)

    # bob is in alice's team: what alice may see changes, so her page fetches the snapshot.
    with page.expect_request(lambda request: "/api/snapshot/" in request.url):
        off_loop(services.shift_start, user=world.bob, client_id=new_id())
    expect(page.locator("#shift-on")).to_be_visible()

    off_loop(services.shift_start, user=world.charlie, client_id=new_id())  # another team: nothing to fetch
    page.wait_for_timeout(500)
    assert len(fetched) == 1


def test_a_field_page_whose_session_ends_says_signed_out(world, browsers):
    """Issue 12, items 11 and 12: the server closes the socket with 4401, and the page can tell."""
    from django.contrib.sessions.models import Session

    page = browsers.page(world.alice, "/falt/")
    expect(page.locator("#connection")).to_have_text("Ansluten")
    off_loop(lambda: Session.objects.all().delete())  # signed out elsewhere (or the session expired)
    expect(page.locator("#connection")).to_have_text("Utloggad – logga in igen", timeout=8000)
