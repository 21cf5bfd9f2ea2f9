"""Every activity on the public map can be tapped (issue 15, weight and Lighthouse's target size):
markers that would cover each other become one marker that names, counts and opens them all."""

from datetime import datetime, timedelta

from django.utils import timezone
from playwright.sync_api import expect

from coordination import services
from tests.browser.conftest import off_loop

PHONE = {"width": 412, "height": 823}  # Lighthouse's mobile screen


def two_activities_at_the_sports_hall(world) -> None:
    start = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=2), datetime.min.time()))
    for title, hour in (("Öppen hall", 18), ("Spontanfotboll", 20)):
        services.activity_create(
            user=world.erik,
            organization_id=world.club.pk,
            title=title,
            place=world.place.pk,
            starts_at=start + timedelta(hours=hour),
            ends_at=start + timedelta(hours=hour + 2),
        )


def test_two_activities_at_one_place_are_one_marker_that_names_counts_and_opens_both(world, browsers):
    off_loop(two_activities_at_the_sports_hall, world)
    public = browsers.page(None, "/", viewport=PHONE)
    expect(public.locator("#connection")).to_have_attribute("data-state", "online")
    marker = public.locator("#public-map .mk-activity")
    expect(marker).to_have_count(1)  # not one marker hidden under the other
    expect(marker).to_have_attribute("data-count", "2")
    expect(marker).to_have_attribute("aria-label", "Öppen hall · Spontanfotboll")
    box = marker.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24

    marker.click()
    popup = public.locator(".leaflet-popup")
    expect(popup).to_contain_text("Öppen hall")
    expect(popup).to_contain_text("Spontanfotboll")
    # The legend over the map steps aside while a place is open: nothing lies over the popup's close button.
    expect(public.locator("#map-legend")).to_be_hidden()
    close = public.locator(".leaflet-popup-close-button")
    centre = close.bounding_box()
    at = [centre["x"] + centre["width"] / 2, centre["y"] + centre["height"] / 2]
    assert public.evaluate("([x, y]) => !!document.elementFromPoint(x, y).closest('.leaflet-popup-close-button')", at)
    close.click()
    expect(public.locator("#map-legend")).to_be_visible()
    # The list opens the second one too, although it has no marker of its own.
    public.locator("#upcoming .place-link", has_text="Spontanfotboll").click()
    expect(popup).to_contain_text("Spontanfotboll")
