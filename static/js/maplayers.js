// How the live picture looks on a Leaflet map: icons, colours, fading, and one layer group per
// feature layer kept in step with a LiveState. Shared by the field page, the duty map and the
// public map, so the three draw the same thing the same way. Expects Leaflet's global `L`.

import { fmt, gettext, ngettext } from "./i18n.js";

// Positions age while nobody moves: how often markers fade and "n min ago" is written again.
const AGE_TICK_MS = 15000;

const SEVERITY_COLOURS = { 1: "#1f6fd1", 2: "#e08a00", 3: "#c62828" };
const STATUS_COLOURS = {
  on_round: "#0b7a75",
  at_place: "#1f6fd1",
  in_conversation: "#7b3fb5",
  break: "#6b7280",
  need_backup: "#c62828",
};

// Glyphs drawn white on the marker (24x24 viewBox); simple shapes that read at 28 px.
const GLYPHS = {
  gathering:
    '<circle cx="7" cy="9" r="2.6"/><circle cx="17" cy="9" r="2.6"/><circle cx="12" cy="7" r="2.6"/>' +
    '<path d="M3 19c0-3 2-5 4-5s4 2 4 5M13 19c0-3 2-5 4-5s4 2 4 5M8 17c0-3 2-5 4-5s4 2 4 5"/>',
  conflict: '<path d="M13 2 5 14h6l-1 8 9-12h-6z" fill="#fff"/>',
  vandalism: '<path d="M4 4l6 5-3 3 7 4-2 4 8 0M20 4l-5 6"/>',
  alcohol: '<path d="M10 2h4v5l2 3v11H8V10l2-3z"/><path d="M8 14h8"/>',
  drugs: '<rect x="3" y="9" width="18" height="7" rx="3.5" transform="rotate(-35 12 12.5)"/><path d="M10 9l4 6"/>',
  vehicle: '<circle cx="6" cy="17" r="3"/><circle cx="18" cy="17" r="3"/><path d="M6 17l5-7h4l3 7M13 6h3"/>',
  unsafe_place: '<path d="M12 3 2 20h20z"/><path d="M12 9v5M12 16.5v.5"/>',
  positive: '<path d="M12 20s-8-5-8-11a4 4 0 0 1 8-1 4 4 0 0 1 8 1c0 6-8 11-8 11z" fill="#fff"/>',
  other:
    '<circle cx="6" cy="12" r="1.6" fill="#fff"/><circle cx="12" cy="12" r="1.6" fill="#fff"/>' +
    '<circle cx="18" cy="12" r="1.6" fill="#fff"/>',
  activity: '<path d="M4 11 12 4l8 7M6 10v10h12V10"/><path d="M10 20v-5h4v5"/>',
};

function svg(glyph) {
  return (
    '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="#fff" stroke-width="2" ' +
    `stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${glyph}</svg>`
  );
}

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Minutes since an ISO time (Infinity when there is none). */
export function ageMinutes(iso, now = Date.now()) {
  return iso ? Math.max(0, (now - Date.parse(iso)) / 60000) : Infinity;
}

/** A position fades from full strength (fresh) to faint (15 minutes old: coverage stops counting it). */
export function opacityForAge(minutes) {
  if (minutes <= 2) return 1;
  if (minutes >= 15) return 0.3;
  return 1 - (0.7 * (minutes - 2)) / 13;
}

// English readers of a Swedish service get the 24-hour clock too.
const LOCALE = { en: "en-GB" }[document.documentElement.lang] ?? document.documentElement.lang;

export function timeText(iso, lang = LOCALE) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
}

export function dayTimeText(iso, lang = LOCALE) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function ageText(iso) {
  const minutes = ageMinutes(iso);
  if (minutes === Infinity) return gettext("ingen position än");
  if (minutes < 1) return gettext("nyss");
  return fmt(gettext("%(n)s min sedan"), { n: Math.round(minutes) });
}

/** Every AGE_TICK_MS: fade the team markers of `layers()` (null until the map is made), then `also()`. */
export function keepAgeing(layers, also = () => {}) {
  return setInterval(() => {
    layers()?.refresh("team");
    also();
  }, AGE_TICK_MS);
}

export function noteIcon(props) {
  const colour = SEVERITY_COLOURS[props.severity] ?? SEVERITY_COLOURS[1];
  const acked = props.status === "acknowledged" ? " acked" : "";
  return L.divIcon({
    className: `mk mk-note${acked}`,
    html: `<span style="background:${colour}">${svg(GLYPHS[props.category] ?? GLYPHS.other)}</span>`,
    iconSize: [30, 30],
    iconAnchor: [15, 15],
  });
}

export function teamIcon(props) {
  const colour = STATUS_COLOURS[props.status] ?? STATUS_COLOURS.on_round;
  const label = escapeHtml(props.short || (props.team_name || "?").slice(0, 2));
  // An old position fades the disc, not the marker: the marker keeps a solid ground (narvaro.css),
  // so an activity or a note under a team never shows through it.
  const fade = opacityForAge(ageMinutes(props.recorded_at));
  return L.divIcon({
    className: "mk mk-team",
    html: `<span style="background:${colour};opacity:${fade.toFixed(2)}">${label}</span>`,
    iconSize: [34, 34],
    iconAnchor: [17, 17],
  });
}

export function alertIcon(props) {
  let state = props.status === "raised" ? "raised" : "acked";
  if (state === "raised" && props.level > 0) state = "escalated";
  return L.divIcon({
    className: `mk mk-alert mk-alert-${state}`,
    html: "<span>!</span>",
    iconSize: [40, 40],
    iconAnchor: [20, 20],
  });
}

export function activityIcon(props) {
  return L.divIcon({
    className: `mk mk-activity mk-activity-${props.status}`,
    html: `<span>${svg(GLYPHS.activity)}</span>`,
    iconSize: [30, 30],
    iconAnchor: [15, 15],
  });
}

export function areaStyle(props) {
  if (props.adults > 0) return { color: "#2e7d32", weight: 2, fillColor: "#2e7d32", fillOpacity: 0.2 };
  if (props.kind === "hotspot") {
    return { color: "#c62828", weight: 2, dashArray: "6 4", fillColor: "#c62828", fillOpacity: 0.12 };
  }
  return { color: "#5b6b7b", weight: 1, fillColor: "#5b6b7b", fillOpacity: 0.04 };
}

export function adultsText(adults) {
  if (!adults) return gettext("Ingen vuxen ute");
  return fmt(ngettext("%(n)s vuxen ute", "%(n)s vuxna ute", adults), { n: adults });
}

/** An area's name and how many adults are out there: its tooltip on every map. */
export function areaText(props) {
  return `${escapeHtml(props.name)}: ${escapeHtml(adultsText(props.adults))}`;
}

const ICONS = { activity: activityIcon, note: noteIcon, team: teamIcon, alert: alertIcon };

// Markers stack by kind, whatever their latitude: a call for help above a team, a team above an
// activity or a note (Leaflet otherwise draws the southern marker on top).
const Z_OFFSET = { alert: 2000, team: 1000 };

/**
 * Leaflet markers for a point layer (see ICONS) with `popup(properties)` as popup; `teamLabels`
 * writes each team's name beside its marker (true: the team's name; a function: its text for the
 * team's properties), so the duty officer reads the map without popups.
 */
function markerTables(name, { popup, teamLabels, teamCode }) {
  const icon = name === "team" && teamCode ? (p) => teamIcon({ ...p, short: teamCode(p) }) : ICONS[name];
  const teamText = typeof teamLabels === "function" ? teamLabels : (p) => p.team_name;
  const draw = (feature) => {
    const p = feature.properties;
    const layer = L.marker(latLng(feature), { icon: icon(p), keyboard: false });
    if (teamLabels && name === "team") {
      const options = { permanent: true, direction: "right", offset: [16, 0], className: "team-label" };
      layer.bindTooltip(escapeHtml(teamText(p)), options);
    }
    if (Z_OFFSET[name]) layer.setZIndexOffset(Z_OFFSET[name]);
    return layer.bindPopup(popup(p));
  };
  const update = (layer, feature) => {
    const p = feature.properties;
    layer.setLatLng(latLng(feature));
    layer.setIcon(icon(p));
    if (teamLabels && name === "team") layer.setTooltipContent(escapeHtml(teamText(p)));
    layer.setPopupContent(popup(p));
  };
  return { draw, update };
}

/**
 * The map layers of a live page: `names` of the feature layers it shows (areas coloured by
 * coverage, the others as markers), `popup(properties)` for a marker, `visible(feature)` to filter,
 * `teamCode(properties)` for the letters on a team's marker (else its short code or name's first two).
 */
export function liveLayers(map, { names, popup, teamLabels = false, teamCode = null, visible = () => true }) {
  const draw = {};
  const update = {};
  for (const name of names) {
    if (name === "area") {
      draw.area = (f) => L.geoJSON(f.geometry, { style: areaStyle(f.properties) }).bindTooltip(areaText(f.properties));
      update.area = (layer, f) => {
        layer.setStyle(areaStyle(f.properties));
        layer.setTooltipContent(areaText(f.properties));
      };
    } else {
      const markers = markerTables(name, { popup, teamLabels, teamCode });
      draw[name] = markers.draw;
      update[name] = markers.update;
    }
  }
  // A resolved alarm stays in the picture (its raiser sees "resolved"), but not on a map.
  const shown = (f) => !(f.properties.layer === "alert" && f.properties.status === "resolved") && visible(f);
  return new FeatureLayers(map, { draw, update, visible: shown });
}

/**
 * Keeps one Leaflet layer per feature of a LiveState in step with it.
 * `draw[layer](feature)` returns a new Leaflet layer, `update[layer](leafletLayer, feature)` refreshes
 * one in place (optional), `visible(feature)` filters (optional).
 */
export class FeatureLayers {
  constructor(map, { draw, update = {}, visible = () => true, order = ["area", "activity", "note", "team", "alert"] }) {
    this.map = map;
    this.draw = draw;
    this.update = update;
    this.visible = visible;
    this.groups = {};
    for (const name of order) {
      if (draw[name]) this.groups[name] = L.layerGroup().addTo(map);
    }
    this.shown = new Map(); // feature id -> {layer, feature}
  }

  sync(state) {
    const seen = new Set();
    for (const feature of state.features.values()) {
      const name = feature.properties.layer;
      if (!this.groups[name] || !this.visible(feature) || (!feature.geometry && name !== "area")) continue;
      seen.add(feature.id);
      const current = this.shown.get(feature.id);
      // Coverage changes an area's properties in place; everything else arrives as a new object.
      if (current && current.feature === feature && name !== "area") continue;
      if (current && this.update[name]) {
        this.update[name](current.layer, feature);
        current.feature = feature;
        continue;
      }
      if (current) this.groups[name].removeLayer(current.layer);
      const layer = this.draw[name](feature);
      layer.featureId = feature.id;
      this.groups[name].addLayer(layer);
      this.shown.set(feature.id, { layer, feature });
    }
    for (const [id, { layer, feature }] of this.shown) {
      if (!seen.has(id)) {
        this.groups[feature.properties.layer].removeLayer(layer);
        this.shown.delete(id);
      }
    }
  }

  /** Redraw every shown feature of one layer in place (e.g. to fade positions as they age). */
  refresh(name) {
    const update = this.update[name];
    if (!update) return;
    for (const entry of this.shown.values()) {
      if (entry.feature.properties.layer === name) update(entry.layer, entry.feature);
    }
  }

  layerFor(id) {
    return this.shown.get(id)?.layer ?? null;
  }

  /** Show the feature `id` (e.g. "note.3") on the map: zoom to a marker and open it, or fit an area. */
  focus(id) {
    const layer = this.layerFor(id);
    if (!layer) return;
    if (layer.getLatLng) {
      this.map.setView(layer.getLatLng(), Math.max(this.map.getZoom(), 16));
      layer.openPopup?.();
    } else if (layer.getBounds) {
      this.map.fitBounds(layer.getBounds(), { maxZoom: 16 });
    }
  }

  /** Frame the map on the areas; false when there are none. */
  fitAreas() {
    const areas = this.groups.area?.getLayers() ?? [];
    if (areas.length) this.map.fitBounds(L.featureGroup(areas).getBounds(), { maxZoom: 15 });
    return areas.length > 0;
  }
}

/** Call `ready(map)` once django-leaflet has made the map with this id (its map:init event). */
export function onMap(id, ready) {
  window.addEventListener("map:init", (event) => {
    if (event.detail.id === id) ready(event.detail.map);
  });
}

export function latLng(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  return [lat, lon];
}
