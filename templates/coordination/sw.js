{% load static %}// Service worker of the field page (templates/coordination/field.html): keeps the page shell so the
// page opens in a dead zone. Rendered as a template so that the static URLs are the deployment's.
// Network first (the page carries the live picture, so a fresh copy wins), the cached copy when
// the network is gone or too slow. The outbox lives in IndexedDB, not here.

// One cache; a new deployment's hashed names replace the old ones in it (dropStale below).
const CACHE = "narvaro-field-v1";
const PAGE = "{% url 'field' %}";
// The page's text in the reader's language (Django's JavaScript catalog).
const CATALOG = "{% url 'javascript-catalog' %}";
// The page's modules (field.js and what it imports) and assets, by their deployed (hashed) names:
// coordination/shell.py lists them, so a new module is kept without editing this file, and nothing
// the page never loads is downloaded (django-leaflet's 448 KB leaflet-src.js is DEBUG only).
const SHELL = [PAGE, CATALOG, {% for path in shell %}"{% static path %}"{% if not forloop.last %}, {% endif %}{% endfor %}];
const STATIC_PREFIX = "{% get_static_prefix %}";
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

// Files of an earlier deployment (other hashed names) leave the cache when this worker takes over.
async function dropStale() {
  const keys = await caches.keys();
  await Promise.all(keys.filter((k) => k.startsWith("narvaro-field") && k !== CACHE).map((k) => caches.delete(k)));
  const cache = await caches.open(CACHE);
  const keep = new Set(SHELL.map((url) => new URL(url, self.location.origin).pathname));
  for (const request of await cache.keys()) {
    if (!keep.has(new URL(request.url).pathname)) await cache.delete(request);
  }
}

self.addEventListener("activate", (event) => {
  event.waitUntil(dropStale().then(() => self.clients.claim()));
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
