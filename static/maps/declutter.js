// The public map's activity markers that would cover each other at the map's zoom (closer than the
// 30 px a marker is drawn) become one target: the first keeps its place, is named after all of them,
// shows how many it stands for and lists them all in its popup; the others leave the map until a zoom
// sets them apart. A marker under another could not be tapped (Lighthouse and axe: target size), and
// two activities at one place never come apart at any zoom.

export const MARKER_PX = 30; // activityIcon's size (static/js/maplayers.js)

/** Points ({id, x, y} in screen pixels), in order, grouped greedily: closer than `px` on both axes to a group's first. */
export function nearGroups(points, px = MARKER_PX) {
  const groups = [];
  for (const point of points) {
    const near = groups.find((g) => Math.abs(g[0].x - point.x) < px && Math.abs(g[0].y - point.y) < px);
    if (near) near.push(point);
    else groups.push([point]);
  }
  return groups;
}

/**
 * Make the `name` markers of `layers` (a FeatureLayers) one tappable target each; call after every sync
 * and zoom. `popup(features)` is the popup of a marker standing for several features.
 */
export function declutter(layers, { popup, name = "activity" }) {
  const group = layers.groups[name];
  if (!group) return;
  const entries = [...layers.shown.values()].filter((e) => e.feature.properties.layer === name);
  const points = entries.map((entry) => ({ entry, ...layers.map.latLngToLayerPoint(entry.layer.getLatLng()) }));
  for (const members of nearGroups(points)) {
    const [lead, ...rest] = members.map((m) => m.entry);
    lead.layer.leader = null;
    if (!group.hasLayer(lead.layer)) group.addLayer(lead.layer);
    for (const entry of rest) {
      entry.layer.leader = lead.layer;
      group.removeLayer(entry.layer);
    }
    const features = [lead, ...rest].map((e) => e.feature);
    const element = lead.layer.getElement();
    element?.setAttribute("aria-label", features.map((f) => f.properties.title).join(" · "));
    if (rest.length) {
      element?.setAttribute("data-count", String(features.length));
      lead.layer.setPopupContent(popup(features));
    } else {
      element?.removeAttribute("data-count");
    }
  }
}

/** Open the feature `id` on the map, also when its marker stands behind another's until the zoom sets them apart. */
export function focusMarker(layers, id, name = "activity") {
  const layer = layers.layerFor(id);
  if (!layer || !layer.getLatLng || layers.groups[name]?.hasLayer(layer)) {
    layers.focus(id);
    return;
  }
  const map = layers.map;
  const zoom = Math.max(map.getZoom(), 16);
  const open = () => (layers.groups[name].hasLayer(layer) ? layer : layer.leader)?.openPopup();
  if (zoom === map.getZoom() && map.getCenter().equals(layer.getLatLng())) open();
  else {
    map.once("moveend", open); // after the zoomend that declutters again
    map.setView(layer.getLatLng(), zoom);
  }
}
