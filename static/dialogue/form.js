// The public report form (templates/dialogue/form.html): tap the map or use my location for the place.

import { onMap } from "../js/maplayers.js";

const form = document.getElementById("tips-form");
const lat = form.elements.lat;
const lon = form.elements.lon;
const text = document.getElementById("tips-point");
const locate = document.getElementById("tips-locate");
let map = null;
let marker = null;

function show() {
  if (!lat.value || !lon.value) {
    text.textContent = text.dataset.none;
    return;
  }
  const at = [Number(lat.value), Number(lon.value)];
  text.textContent = `${text.dataset.chosen}: ${at[0].toFixed(5)}, ${at[1].toFixed(5)}`;
  if (!map) return;
  if (marker) marker.setLatLng(at);
  else marker = L.marker(at).addTo(map);
  map.setView(at, Math.max(map.getZoom(), 16));
}

function choose(latitude, longitude) {
  lat.value = latitude.toFixed(6);
  lon.value = longitude.toFixed(6);
  show();
}

onMap("tips-map", (made) => {
  map = made;
  map.on("click", (event) => choose(event.latlng.lat, event.latlng.lng));
  show(); // a form sent back with an error keeps its place
});

locate.addEventListener("click", () => {
  if (!navigator.geolocation) {
    text.textContent = locate.dataset.failed;
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (position) => choose(position.coords.latitude, position.coords.longitude),
    () => {
      text.textContent = locate.dataset.failed;
    },
    { enableHighAccuracy: true, timeout: 10000 },
  );
});
