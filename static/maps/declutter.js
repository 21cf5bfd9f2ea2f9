// Markers on the public map that would cover each other at the map's zoom (closer than `px` on both
// axes) become one target: the first keeps its place, is named after all of them, shows how many it
// stands for and lists them all in its popup; the others leave the map until a zoom sets them apart.
// A marker under another could not be tapped (Lighthouse and axe: target size), and two activities
// (or an activity and a published citizen report) at one place never come apart at any zoom.

export const MARKER_PX = 30; // activityIcon's size (static/js/maplayers.js)

/** Points ({x, y} in screen pixels), in order, grouped greedily: closer than `px` on both axes to a group's first. */
export function nearGroups(points, px = MARKER_PX) {
  const groups = [];
  for (const point of points) {
    const near = groups.find((g) => Math.abs(g[0].x - point.x) < px && Math.abs(g[0].y - point.y) < px);
    if (near) near.push(point);
    else groups.push([point]);
  }
  return groups;
}

const hidden = new Map(); // marker -> the layer group it was taken from

/** A marker's own popup content: what its page last set, not the group's. */
function ownContent(marker) {
  const content = marker.getPopup()?.getContent();
  if (content !== marker.groupContent) marker.ownContent = content;
  return marker.ownContent ?? "";
}

function ownLabel(marker) {
  if (marker.options.title) return marker.options.title;
  const text = document.createElement("div");
  text.innerHTML = ownContent(marker);
  return text.textContent.trim();
}

/** Regroup every marker in the map's layer groups; call after the page changed its markers. */
export function declutter(map, { px = MARKER_PX } = {}) {
  if (!map._loaded) return;
  for (const [marker, group] of hidden) group.addLayer(marker);
  hidden.clear();
  const points = [];
  map.eachLayer((group) => {
    if (!(group instanceof L.LayerGroup) || group instanceof L.FeatureGroup) return;
    for (const marker of group.getLayers()) {
      if (marker instanceof L.Marker && marker.getElement())
        points.push({ marker, group, ...map.latLngToLayerPoint(marker.getLatLng()) });
    }
  });
  for (const [lead, ...rest] of nearGroups(points, px)) {
    const members = [lead, ...rest].map((p) => p.marker);
    const contents = members.map(ownContent);
    const element = lead.marker.getElement();
    lead.marker.leader = null;
    for (const { marker, group } of rest) {
      marker.leader = lead.marker;
      hidden.set(marker, group);
      group.removeLayer(marker);
    }
    element.setAttribute("aria-label", members.map(ownLabel).join(" · "));
    if (rest.length) {
      element.setAttribute("data-count", String(members.length));
      lead.marker.groupContent = contents.join("<hr>");
    } else {
      element.removeAttribute("data-count");
      lead.marker.groupContent = undefined;
    }
    if (lead.marker.getPopup()) lead.marker.setPopupContent(lead.marker.groupContent ?? contents[0]);
  }
}

/** Keep `map`'s markers one tappable target each: after every zoom and every marker a page adds. */
export function keepTargetsApart(map, options = {}) {
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      declutter(map, options);
    });
  };
  map.on("zoomend", () => declutter(map, options));
  map.on("layeradd", (event) => {
    if (event.layer instanceof L.Marker && !hidden.has(event.layer)) soon();
  });
  declutter(map, options);
}

/** Open the feature `id` of `layers` (a FeatureLayers) on the map, also when its marker stands behind another's. */
export function focusMarker(layers, id) {
  const layer = layers.layerFor(id);
  const map = layers.map;
  if (!layer || !layer.getLatLng || map.hasLayer(layer)) {
    layers.focus(id);
    return;
  }
  const zoom = Math.max(map.getZoom(), 16);
  const open = () => (map.hasLayer(layer) ? layer : layer.leader)?.openPopup();
  if (zoom === map.getZoom() && map.getCenter().equals(layer.getLatLng())) open();
  else {
    map.once("moveend", open); // after the zoomend that regroups
    map.setView(layer.getLatLng(), zoom);
  }
}
