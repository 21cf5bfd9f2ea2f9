// The public map (templates/maps/public.html): public activities and adults per area, live over
// /ws/public/. The server sends this page nothing else; it never learns who is out or where.

import { Live, serverData, setHtml } from "../js/live.js";
import {
  FeatureLayers,
  activityIcon,
  adultsText,
  areaStyle,
  dayTimeText,
  escapeHtml,
  onMap,
  timeText,
} from "../js/maplayers.js";

const config = serverData("public-config");
const S = config.strings;
const $ = (selector) => document.querySelector(selector);
const WEEK_MS = 7 * 24 * 3600 * 1000;
let layers = null;
let map = null;

const live = new Live({
  path: config.ws_path,
  snapshot: config.snapshot,
  snapshotUrl: config.snapshot_url,
  publicOnly: true,
  handlers: {
    change: () => render(),
    status: () => renderConnection(),
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
      ? `<span class="tag tag-open">${escapeHtml(S.open_now)}</span>`
      : p.status === "closed"
        ? `<span class="tag tag-closed">${escapeHtml(S.closed)}</span>`
        : "";
  const details = [
    p.place_name,
    p.organization_name,
    p.age_group ? `${S.age} ${p.age_group}` : "",
    p.weekly ? S.weekly : "",
  ].filter(Boolean);
  return (
    `<li class="activity-item ${p.status}" data-id="activity.${p.id}" data-focus="activity.${p.id}">` +
    `<strong>${escapeHtml(p.title)}</strong> ${tag}<br><time>${escapeHtml(when)}</time>` +
    `<span class="muted"> · ${escapeHtml(details.join(" · "))}</span>` +
    `${p.description ? `<p>${escapeHtml(p.description)}</p>` : ""}` +
    `${p.contact ? `<p class="muted">${escapeHtml(S.contact)}: ${escapeHtml(p.contact)}</p>` : ""}</li>`
  );
}

function render() {
  const activities = live.state.layer("activity").map((f) => f.properties);
  activities.sort((a, b) => nextOccurrence(a).start - nextOccurrence(b).start);
  const open = activities.filter((p) => p.status === "open");
  const later = activities.filter((p) => p.status !== "open");
  const empty = `<li class="muted">${escapeHtml(S.no_activities)}</li>`;
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
          `<strong>${escapeHtml(a.name)}</strong> <span class="count" data-adults="${a.adults}">${escapeHtml(adultsText(a.adults, S))}</span></li>`,
      )
      .join(""),
  );
  renderConnection();
  if (layers) layers.sync(live.state);
}

function renderConnection() {
  const badge = $("#connection");
  badge.dataset.state = live.status === "signed_out" ? "offline" : live.status;
  badge.textContent = S[badge.dataset.state];
}

function popupText(p) {
  if (p.layer === "activity") {
    const { start, end } = nextOccurrence(p);
    return (
      `<strong>${escapeHtml(p.title)}</strong><br>${escapeHtml(p.organization_name)}<br>` +
      `${escapeHtml(dayTimeText(new Date(start).toISOString()))}–${escapeHtml(timeText(new Date(end).toISOString()))}`
    );
  }
  return `${escapeHtml(p.name)}: ${escapeHtml(adultsText(p.adults, S))}`;
}

onMap("public-map", (leafletMap) => {
  map = leafletMap;
  layers = new FeatureLayers(map, {
    draw: {
      area: (f) => L.geoJSON(f.geometry, { style: areaStyle(f.properties) }).bindTooltip(popupText(f.properties)),
      activity: (f) => {
        const [lon, lat] = f.geometry.coordinates;
        return L.marker([lat, lon], { icon: activityIcon(f.properties), keyboard: false }).bindPopup(
          popupText(f.properties),
        );
      },
    },
    update: {
      area: (layer, f) => {
        layer.setStyle(areaStyle(f.properties));
        layer.setTooltipContent(popupText(f.properties));
      },
    },
  });
  layers.sync(live.state);
  const areas = layers.groups.area.getLayers();
  if (areas.length) map.fitBounds(L.featureGroup(areas).getBounds(), { maxZoom: 15 });
});

document.addEventListener("click", (event) => {
  const item = event.target.closest("[data-focus]");
  const layer = item && layers?.layerFor(item.dataset.focus);
  if (!layer) return;
  if (layer.getLatLng) {
    map.setView(layer.getLatLng(), Math.max(map.getZoom(), 16));
    layer.openPopup();
  } else {
    map.fitBounds(layer.getBounds(), { maxZoom: 16 });
  }
});

render();
await live.start();
