// "Where to go next" (templates/coordination/_where_next.html and _where_next_ops.html): the places
// that need adults now, from GET /api/where-next/ (coordination/selectors/where_next.py ranks them).
// The field page asks with the phone's position and shows the nearest three; the duty map asks
// without one and shows the whole ranking with its reasons. Refreshed every minute.

import { fmt, gettext } from "./i18n.js";

/** Text safe inside HTML (as maplayers.escapeHtml; that module needs a document, these load in Node too). */
export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const EVERY_MS = 60 * 1000;

function distanceText(metres) {
  if (metres == null) return "";
  if (metres === 0) return gettext("du är där");
  if (metres < 1000) return fmt(gettext("%(m)s m bort"), { m: Math.round(metres / 10) * 10 });
  return fmt(gettext("%(km)s km bort"), { km: (metres / 1000).toFixed(1) });
}

/** The list's HTML for the endpoint's `results`. */
export function suggestionsHtml(results) {
  if (!results.length)
    return `<li class="muted">${escapeHtml(gettext("Inga platser behöver fler vuxna just nu."))}</li>`;
  return results
    .map((s) => {
      const distance = distanceText(s.distance_m);
      const reasons = s.reason_texts
        .map((text, i) => `<span class="reason-${escapeHtml(s.reasons[i])}">${escapeHtml(text)}</span>`)
        .join(" · ");
      return (
        `<li data-area="${s.area}"><strong>${escapeHtml(s.name)}</strong>` +
        (distance ? ` <span class="distance">${escapeHtml(distance)}</span>` : "") +
        `<span class="reasons">${reasons}</span></li>`
      );
    })
    .join("");
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve(null);
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude.toFixed(5), lon: p.coords.longitude.toFixed(5) }),
      () => resolve(null), // without a position the ranking is by need alone
      { maximumAge: EVERY_MS, timeout: 10000, enableHighAccuracy: false },
    );
  });
}

async function refresh(section) {
  const url = new URL(section.dataset.url, location.href);
  if (section.dataset.locate === "1") {
    const here = await position();
    if (here) {
      url.searchParams.set("lat", here.lat);
      url.searchParams.set("lon", here.lon);
    }
  }
  try {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      // 403 off shift: nothing to suggest until the team is out.
      section.hidden = true;
      return;
    }
    const { results } = await response.json();
    section.querySelector("ol").innerHTML = suggestionsHtml(results);
    section.hidden = false;
  } catch {
    // Offline: keep the last list; the next minute tries again.
  }
}

for (const section of globalThis.document?.querySelectorAll("[data-where-next]") ?? []) {
  refresh(section);
  setInterval(() => refresh(section), EVERY_MS);
  document.addEventListener("focus:change", () => refresh(section)); // focus.js: an EST decision's hours began or ended
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh(section);
  });
}
