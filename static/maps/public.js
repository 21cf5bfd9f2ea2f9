// The public map (templates/maps/public.html): public activities and adults per area, live over
// /ws/public/. The server sends this page nothing else; it never learns who is out or where.

import { gettext } from "../js/i18n.js";
import { Live } from "../js/live.js";
import { adultsText, dayTimeText, escapeHtml, liveLayers, onMap, timeText } from "../js/maplayers.js";
import { $, renderConnection, serverData, setHtml } from "../js/ui.js";

const config = serverData("public-config");
const WEEK_MS = 7 * 24 * 3600 * 1000;
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

/** The next occurrence (start, end in ms) that has not ended, for one-off and weekly activities. */
function nextOccurrence(p, now = Date.now()) {
  let start = Date.parse(p.starts_at);
  let end = Date.parse(p.ends_at);
  if (p.weekly && end < now) {
    // Whole weeks in milliseconds: an occurrence across a daylight-saving change shows an hour off.
    const weeks = Math.ceil((now - end) / WEEK_MS);
    start += weeks * WEEK_MS;
    end += weeks * WEEK_MS;
  }
  return { start, end };
}

function activityItem(p) {
  const { start, end } = nextOccurrence(p);
  const when =
    p.status === "open"
      ? `${timeText(new Date(start).toISOString())}–${timeText(new Date(end).toISOString())}`
      : `${dayTimeText(new Date(start).toISOString())}–${timeText(new Date(end).toISOString())}`;
  const tag =
    p.status === "open"
      ? `<span class="tag tag-open">${escapeHtml(gettext("Öppet nu"))}</span>`
      : p.status === "closed"
        ? `<span class="tag tag-closed">${escapeHtml(gettext("Stängt i kväll"))}</span>`
        : "";
  const details = [
    p.place_name,
    p.organization_name,
    p.age_group ? `${gettext("Ålder")} ${p.age_group}` : "",
    p.weekly ? gettext("varje vecka") : "",
  ].filter(Boolean);
  return (
    `<li class="activity-item ${p.status}" data-id="activity.${p.id}" data-focus="activity.${p.id}">` +
    `<strong>${escapeHtml(p.title)}</strong> ${tag}<br><time>${escapeHtml(when)}</time>` +
    `<span class="muted"> · ${escapeHtml(details.join(" · "))}</span>` +
    `${p.description ? `<p>${escapeHtml(p.description)}</p>` : ""}` +
    `${p.contact ? `<p class="muted">${escapeHtml(gettext("Kontakt"))}: ${escapeHtml(p.contact)}</p>` : ""}</li>`
  );
}

function render() {
  const activities = live.state.layer("activity").map((f) => f.properties);
  activities.sort((a, b) => nextOccurrence(a).start - nextOccurrence(b).start);
  const open = activities.filter((p) => p.status === "open");
  const later = activities.filter((p) => p.status !== "open");
  const empty = `<li class="muted">${escapeHtml(gettext("Inga aktiviteter just nu."))}</li>`;
  setHtml($("#open-now"), open.map(activityItem).join("") || empty);
  setHtml($("#upcoming"), later.map(activityItem).join("") || empty);
  const areas = live.state.layer("area").map((f) => f.properties);
  areas.sort((a, b) => b.adults - a.adults || a.name.localeCompare(b.name));
  setHtml(
    $("#areas"),
    areas
      .map(
        (a) =>
          `<li class="area-item ${a.adults ? "covered" : ""}" data-id="area.${a.id}" data-focus="area.${a.id}">` +
          `<strong>${escapeHtml(a.name)}</strong> <span class="count" data-adults="${a.adults}">${escapeHtml(adultsText(a.adults))}</span></li>`,
      )
      .join(""),
  );
  renderConnection(live.status);
  if (layers) layers.sync(live.state);
}

function popupText(p) {
  const { start, end } = nextOccurrence(p);
  return (
    `<strong>${escapeHtml(p.title)}</strong><br>${escapeHtml(p.organization_name)}<br>` +
    `${escapeHtml(dayTimeText(new Date(start).toISOString()))}–${escapeHtml(timeText(new Date(end).toISOString()))}`
  );
}

onMap("public-map", (map) => {
  layers = liveLayers(map, { names: ["area", "activity"], popup: popupText });
  layers.sync(live.state);
  layers.fitAreas();
});

document.addEventListener("click", (event) => {
  const item = event.target.closest("[data-focus]");
  if (item) layers?.focus(item.dataset.focus);
});

render();
await live.start();
