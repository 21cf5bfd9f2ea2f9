"""What the map pages draw before their scripts run (issue 15, weight): the field page's shift card as
it is, and a connection to the tile server opened from the head."""

import re

from coordination import services
from coordination.templatetags.maptiles import tile_origins
from coordination.tests.sockets import new_id


def test_the_field_page_draws_the_shift_card_of_the_moment_before_its_script_runs(world, client):
    client.force_login(world.bob)
    html = client.get("/falt/").content.decode()
    assert '<div class="card" id="shift-off">' in html and '<div class="card" id="shift-on" hidden>' in html
    services.shift_start(user=world.alice, client_id=new_id())  # bob's teammate starts the team's shift
    html = client.get("/falt/").content.decode()
    assert '<div class="card" id="shift-off" hidden>' in html and '<div class="card" id="shift-on">' in html


def test_the_map_pages_preconnect_to_the_tile_servers(world, client, settings):
    settings.LEAFLET_CONFIG = {
        **settings.LEAFLET_CONFIG,
        "TILES": [("Karta", "https://karta.example.se/tiles/{z}/{x}/{y}.png", {"attribution": "Lysekil"})],
    }
    settings.MAP_TILES_DARK_URL = "https://{s}.natt.example.se/{z}/{x}/{y}.png"  # no fixed origin to name
    assert tile_origins() == ["https://karta.example.se"]
    client.force_login(world.bob)
    for page in ("/", "/falt/"):
        head = client.get(page).content.decode().split("</head>")[0]
        assert re.findall(r'<link rel="preconnect" href="([^"]+)">', head) == ["https://karta.example.se"], page
