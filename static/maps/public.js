// The public map (templates/maps/public.html): public activities and adults per area, live over
// /ws/public/. The server sends this page nothing else; it never learns who is out or where.
// Written for a parent: a legend, one positive line about the adults out, no "danger zones", and
// every list item opens its place on the map.

import { fmt, gettext, ngettext } from "../js/i18n.js";
import { Live } from "../js/live.js";
import { FeatureLayers, activityIcon, areaText, latLng, onMap } from "../js/maplayers.js";
import { adultsText, dayTimeText, escapeHtml, timeText } from "../js/maplayers.js";
import { $, renderConnection, serverData, setHtml } from "../js/ui.js";
import { declutter, focusMarker, keepTargetsApart } from "./declutter.js";

const config = serverData("public-config");
const WEEK_MS = 7 * 24 * 3600 * 1000;
const ZONE = "Europe/Stockholm";
let layers = null;

const live = new Live({
  path: config.ws_path,
  snapshot: config.snapshot,
  snapshotUrl: config.snapshot_url,
  publicOnly: true,
  handlers: {
    change: () => render(),
    status: () => renderConnection(live.status),
    event: (event) => document.dispatchEvent(new CustomEvent("narvaro:event", { detail: event })), // reports-public.js
  },
});

/** The local date (YYYY-MM-DD, Stockholm) an occasion starting at `ms` is on. */
function localDate(ms) {
  return new Date(ms).toLocaleDateString("sv-SE", { timeZone: ZONE });
}

/**
 * The next occasion (start, end in ms) that has not ended and is not cancelled, and the cancelled
 * evenings skipped on the way (their dates), for one-off and weekly activities.
 */
export function nextOccurrence(p, now = Date.now()) {
  let start = Date.parse(p.starts_at);
  let end = Date.parse(p.ends_at);
  const cancelled = new Set((p.occasions ?? []).filter((o) => o.status === "cancelled").map((o) => o.date));
  const skipped = [];
  if (p.weekly && end < now) {
    // Whole weeks in milliseconds: an occurrence across a daylight-saving change shows an hour off.
    const weeks = Math.ceil((now - end) / WEEK_MS);
    start += weeks * WEEK_MS;
    end += weeks * WEEK_MS;
  }
  while (cancelled.has(localDate(start))) {
    skipped.push(start);
    if (!p.weekly) return { start, end, skipped, cancelled: true };
    start += WEEK_MS;
    end += WEEK_MS;
  }
  return { start, end, skipped, cancelled: false };
}

/** Open now: opened for tonight's evening, and that evening has not ended ("Öppet nu" ends with it). */
export function openNow(p, now = Date.now()) {
  if (p.status !== "open") return false;
  const { start, end, skipped } = nextOccurrence(p, now);
  return skipped.length === 0 && start - 12 * 3600 * 1000 < now && now < end;
}

function dayText(ms) {
  const options = { weekday: "short", day: "numeric", month: "short", timeZone: ZONE };
  return new Date(ms).toLocaleDateString(document.documentElement.lang || "sv", options);
}

function iso(ms) {
  return new Date(ms).toISOString();
}

function activityItem(p) {
  const next = nextOccurrence(p);
  const open = openNow(p);
  const when = open
    ? `${timeText(iso(next.start))}–${timeText(iso(next.end))}`
    : `${dayTimeText(iso(next.start))}–${timeText(iso(next.end))}`;
  const tags = [];
  if (open) tags.push(`<span class="tag tag-open">${escapeHtml(gettext("Öppet nu"))}</span>`);
  else if (p.status === "closed")
    tags.push(`<span class="tag tag-closed">${escapeHtml(gettext("Stängt i kväll"))}</span>`);
  for (const ms of next.skipped) {
    const day = dayText(ms);
    tags.push(`<span class="tag tag-cancelled">${escapeHtml(fmt(gettext("Inställt %(day)s"), { day }))}</span>`);
  }
  const details = [
    p.place_name,
    p.organization_name,
    p.age_group ? `${gettext("Ålder")} ${p.age_group}` : "",
    p.weekly ? gettext("varje vecka") : "",
  ].filter(Boolean);
  return (
    `<li class="activity-item ${open ? "open" : p.status}" data-id="activity.${p.id}">` +
    `<button type="button" class="place-link" data-focus="activity.${p.id}">${escapeHtml(p.title)}</button> ${tags.join(" ")}<br>` +
    `${next.cancelled ? "" : `<time>${escapeHtml(when)}</time>`}` +
    `<span class="muted"> · ${escapeHtml(details.join(" · "))}</span>` +
    `${p.description ? `<p>${escapeHtml(p.description)}</p>` : ""}` +
    `${p.contact ? `<p class="muted">${escapeHtml(gettext("Kontakt"))}: ${escapeHtml(p.contact)}</p>` : ""}</li>`
  );
}

/** "12 vuxna ute i 4 områden i kväll": the adults out, said once, never a row per empty area. */
export function coverageSummary(areas) {
  // Hotspots lie inside districts: count people by district, so one adult is not counted twice;
  // the places named are every area listed below.
  const base = areas.some((a) => a.kind === "district") ? areas.filter((a) => a.kind === "district") : areas;
  const adults = base.reduce((sum, a) => sum + Math.max(0, a.adults), 0);
  const covered = areas.filter((a) => a.adults > 0);
  if (!adults) return gettext("Fältare, fritidsledare och nattvandrare syns här när de går ut i kväll.");
  const people = fmt(ngettext("%(n)s vuxen ute", "%(n)s vuxna ute", adults), { n: adults });
  const where = fmt(ngettext("i %(n)s område i kväll", "i %(n)s områden i kväll", covered.length), {
    n: covered.length,
  });
  return `${people} ${where}`;
}

function render() {
  const activities = live.state.layer("activity").map((f) => f.properties);
  activities.sort((a, b) => nextOccurrence(a).start - nextOccurrence(b).start);
  const open = activities.filter((p) => openNow(p));
  const later = activities.filter((p) => !openNow(p));
  const empty = `<li class="muted">${escapeHtml(gettext("Inga aktiviteter just nu."))}</li>`;
  setHtml($("#open-now"), open.map(activityItem).join("") || empty);
  setHtml($("#upcoming"), later.map(activityItem).join("") || empty);
  const areas = live.state.layer("area").map((f) => f.properties);
  $("#coverage-summary").textContent = coverageSummary(areas);
  const covered = areas.filter((a) => a.adults > 0).sort((a, b) => b.adults - a.adults || a.name.localeCompare(b.name));
  setHtml(
    $("#areas"),
    covered
      .map(
        (a) =>
          `<li class="area-item covered" data-id="area.${a.id}">` +
          `<button type="button" class="place-link" data-focus="area.${a.id}">${escapeHtml(a.name)}</button> ` +
          `<span class="count" data-adults="${a.adults}">${escapeHtml(adultsText(a.adults))}</span></li>`,
      )
      .join(""),
  );
  renderConnection(live.status);
  if (layers) layers.sync(live.state);
  if (layers) declutter(layers.map); // the markers' own popups and names were just redrawn
}

function popupText(p) {
  const { start, end } = nextOccurrence(p);
  return (
    `<strong>${escapeHtml(p.title)}</strong><br>${escapeHtml(p.organization_name)}<br>` +
    `${escapeHtml(dayTimeText(iso(start)))}–${escapeHtml(timeText(iso(end)))}`
  );
}

/** A colour of the stylesheet (so night mode changes the map too), with a fallback. */
function cssColour(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The public look of an area: green where adults are out, a quiet outline elsewhere; no hotspots. */
function publicAreaStyle(props) {
  if (props.adults > 0) {
    const green = cssColour("--green", "#2e7d32");
    return { color: green, weight: 2, fillColor: green, fillOpacity: 0.2 };
  }
  const grey = cssColour("--grey", "#5b6b7b");
  return { color: grey, weight: 1, fillColor: grey, fillOpacity: 0.03 };
}

function activityMarker(feature) {
  const p = feature.properties;
  const shown = { ...p, status: openNow(p) ? "open" : p.status === "open" ? "planned" : p.status };
  return { icon: activityIcon(shown), title: p.title, alt: p.title };
}

function publicLayers(map) {
  const draw = {
    area: (f) => L.geoJSON(f.geometry, { style: publicAreaStyle(f.properties) }).bindTooltip(areaText(f.properties)),
    activity: (f) => {
      const { icon, title } = activityMarker(f);
      const marker = L.marker(latLng(f), { icon, title, keyboard: true }).bindPopup(popupText(f.properties));
      // Named for a screen reader (the icon is a div, so Leaflet's `alt` does not reach it).
      marker.on("add", () => marker.getElement()?.setAttribute("aria-label", title));
      return marker;
    },
  };
  const update = {
    area: (layer, f) => {
      layer.setStyle(publicAreaStyle(f.properties));
      layer.setTooltipContent(areaText(f.properties));
    },
    activity: (layer, f) => {
      layer.setLatLng(latLng(f));
      layer.setIcon(activityMarker(f).icon);
      layer.getElement()?.setAttribute("aria-label", f.properties.title);
      layer.setPopupContent(popupText(f.properties));
    },
  };
  return new FeatureLayers(map, { draw, update });
}

onMap("public-map", (map) => {
  layers = publicLayers(map);
  layers.sync(live.state);
  layers.fitAreas();
  keepTargetsApart(map);
  // The legend lies over the map, above Leaflet's panes: while a place is open it steps aside, so the
  // popup and its close button are never under it.
  const legend = document.getElementById("map-legend");
  map.on("popupopen", () => legend?.classList.add("under-popup"));
  map.on("popupclose", () => legend?.classList.remove("under-popup"));
});

document.addEventListener("click", (event) => {
  const item = event.target.closest("[data-focus]");
  if (!item || !layers) return;
  focusMarker(layers, item.dataset.focus);
  // On a phone the map is above the list: bring it into view.
  const map = document.getElementById("public-map");
  if (map.getBoundingClientRect().bottom < 0) map.scrollIntoView({ behavior: "smooth", block: "start" });
});

// "Öppet nu" ends at the evening's end even when no event says so.
setInterval(render, 60000);
render();
await live.start();
