// The duty page's map: popups, team labels that tell same-named teams apart, and a view that
// frames the evening (the areas and every team out with a position).

import { fmt, gettext } from "../../js/i18n.js";
import { ageText, escapeHtml, timeText } from "../../js/maplayers.js";
import { label, teamName } from "./context.js";
import { alarmFrom } from "./panels.js";

// However close together the teams are, the map does not zoom in further than this when it frames them.
const FIT_MAX_ZOOM = 15;

export function popupText(p) {
  if (p.layer === "team") {
    return `<strong>${escapeHtml(teamName(p.team, p.team_name))}</strong><br>${escapeHtml(label.status[p.status] ?? "")} · ${escapeHtml(ageText(p.recorded_at))}`;
  }
  if (p.layer === "note") {
    const count = p.youth_count != null ? ` · ${escapeHtml(fmt(gettext("ca %(n)s unga"), { n: p.youth_count }))}` : "";
    return `<strong>${escapeHtml(label.category[p.category])}</strong> · ${escapeHtml(label.severity[p.severity])}${count}<br>${escapeHtml(p.text)}`;
  }
  if (p.layer === "alert")
    return `<strong>${escapeHtml(fmt(gettext("Larm från %(team)s"), { team: alarmFrom(p) }))}</strong><br>${escapeHtml(p.text)}`;
  return `<strong>${escapeHtml(p.title)}</strong><br>${escapeHtml(p.organization_name)} · ${timeText(p.starts_at)}–${timeText(p.ends_at)}`;
}

/** The label beside a team's marker. */
export function teamLabel(p) {
  return teamName(p.team, p.team_name);
}

/** Frame the map on the evening: the areas and the teams on shift with a position. False when empty. */
export function fitEvening(map, layers) {
  const shown = [...(layers.groups.area?.getLayers() ?? []), ...(layers.groups.team?.getLayers() ?? [])];
  if (!shown.length) return false;
  map.fitBounds(L.featureGroup(shown).getBounds(), { maxZoom: FIT_MAX_ZOOM, padding: [24, 24] });
  return true;
}
