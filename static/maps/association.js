// The association page's activity form (templates/maps/association.html, activity_edit.html):
// choose a known place, or tap the map for a point of your own.

import { serverData } from "../js/ui.js";
import { escapeHtml, onMap } from "../js/maplayers.js";

const places = serverData("places");
const form = document.getElementById("activity-form");
const lat = form.elements.lat;
const lon = form.elements.lon;
const place = form.elements.place;
const text = document.getElementById("point-text");
let point = null;

function describe() {
  text.textContent =
    lat.value && lon.value
      ? `${text.dataset.chosen}: ${Number(lat.value).toFixed(5)}, ${Number(lon.value).toFixed(5)}`
      : place.value
        ? ""
        : text.dataset.none;
}

onMap("activity-map", (map) => {
  const placeIcon = L.divIcon({ className: "mk mk-place", html: "<span></span>", iconSize: [14, 14] });
  const markers = L.featureGroup().addTo(map);
  for (const p of places) {
    L.marker([p.lat, p.lon], { icon: placeIcon, title: p.name, alt: p.name })
      .bindTooltip(escapeHtml(p.name))
      .on("click", () => {
        place.value = String(p.id);
        clearPoint();
      })
      .addTo(markers);
  }
  if (places.length) map.fitBounds(markers.getBounds(), { maxZoom: 15, padding: [20, 20] });

  function showPoint() {
    if (lat.value && lon.value) {
      const at = [Number(lat.value), Number(lon.value)];
      if (point) point.setLatLng(at);
      else point = L.marker(at).addTo(map);
      map.panTo(at);
    }
    describe();
  }

  map.on("click", (event) => {
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
    // A point of its own replaces the place: the activity is where the pin is.
    place.value = "";
    showPoint();
  });

  place.addEventListener("change", () => {
    const chosen = places.find((p) => String(p.id) === place.value);
    if (chosen) {
      clearPoint();
      map.setView([chosen.lat, chosen.lon], Math.max(map.getZoom(), 15));
    }
  });

  function clearPoint() {
    lat.value = "";
    lon.value = "";
    if (point) {
      point.remove();
      point = null;
    }
    describe();
  }

  document.getElementById("point-clear").addEventListener("click", clearPoint);
  showPoint();
});

// Cancelling cannot be undone: ask first.
for (const cancel of document.querySelectorAll(".cancel-form")) {
  cancel.addEventListener("submit", (event) => {
    if (!confirm(cancel.dataset.confirm ?? "?")) event.preventDefault();
  });
}
describe();
