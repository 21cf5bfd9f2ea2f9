{% load static %}// Service worker of the field page (templates/coordination/field.html): keeps the page shell so the
// page opens in a dead zone. Rendered as a template so that the static URLs are the deployment's.
// Network first (the page carries the live picture, so a fresh copy wins), the cached copy when
// the network is gone or too slow. The outbox lives in IndexedDB, not here.

const CACHE = "narvaro-field-v1";
const PAGE = "{% url 'field' %}";
// The page's text in the reader's language (Django's JavaScript catalog).
const CATALOG = "{% url 'javascript-catalog' %}";
const SHELL = [
  PAGE,
  CATALOG,
  "{% static 'css/narvaro.css' %}",
  "{% static 'css/est.css' %}",
  "{% static 'coordination/field.js' %}",
  "{% static 'coordination/field/consent.js' %}",
  "{% static 'coordination/field/sheet.js' %}",
  "{% static 'coordination/field/state.js' %}",
  "{% static 'js/chat.js' %}",
  "{% static 'js/i18n.js' %}",
  "{% static 'js/live.js' %}",
  "{% static 'js/outbox.js' %}",
  "{% static 'js/maplayers.js' %}",
  "{% static 'js/leaflet-map.js' %}",
  "{% static 'js/ui.js' %}",
  "{% static 'js/focus.js' %}",
  "{% static 'js/where-next.js' %}",
  "{% static 'leaflet/leaflet.css' %}",
  "{% static 'leaflet/leaflet.extras.css' %}",
  "{% static 'leaflet/leaflet.js' %}",
  "{% static 'leaflet/leaflet-src.js' %}",
  "{% static 'leaflet/leaflet.extras.js' %}",
  "{% static 'leaflet/draw/leaflet.draw.i18n.js' %}",
  "{% static 'leaflet/images/layers.png' %}",
  "{% static 'img/icon.svg' %}",
  "{% static 'img/icon-192.png' %}",
];
const STATIC_PREFIX = "{% static '' %}";
// A phone on one bar of signal: after this long the cached copy is better than waiting.
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // One missing file must not leave the phone without the rest of the shell.
      Promise.all(SHELL.map((url) => cache.add(new Request(url, { cache: "reload" })).catch(() => null))),
    ),
  );
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("narvaro-field") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function shellRequest(request) {
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return false;
  if (request.mode === "navigate") return url.pathname === PAGE;
  return url.pathname === CATALOG || url.pathname.startsWith(STATIC_PREFIX);
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

self.addEventListener("fetch", (event) => {
  // Map tiles, the snapshot JSON and everything else go straight to the network.
  if (!shellRequest(event.request)) return;
  const request = event.request;
  const key = request.mode === "navigate" ? PAGE : request;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
        // Only a real page is kept: not a redirect to the login page, not an error.
        if (response.ok && !response.redirected) await cache.put(key, response.clone());
        return response;
      } catch (error) {
        const cached = await cache.match(key, { ignoreSearch: true });
        if (cached) return cached;
        throw error;
      }
    })(),
  );
});
