// Small page pieces every screen with a live connection shares: server data, HTML updates, the
// connection badge and the toast.

import { gettext } from "./i18n.js";

export const $ = (selector) => document.querySelector(selector);

/** Read server data a template embedded with json_script. */
export function serverData(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

/** Replace an element's HTML only when it changed, so a button is not swapped under a finger. */
const shownHtml = new WeakMap();
export function setHtml(element, html) {
  if (shownHtml.get(element) === html) return false;
  shownHtml.set(element, html);
  element.innerHTML = html;
  return true;
}

function connectionText(status) {
  return {
    online: gettext("Ansluten"),
    connecting: gettext("Ansluter …"),
    offline: gettext("Frånkopplad"),
    signed_out: gettext("Utloggad – logga in igen"),
  }[status];
}

/**
 * Show a Live connection's status on the #connection badge; `waiting` (frames still queued) is
 * added when there are some. Signed out (close 4401/4403) looks like offline, since the page
 * cannot send either way, but says what helps: signing in again, not waiting for the network.
 */
export function renderConnection(status, waiting = 0) {
  const badge = $("#connection");
  badge.dataset.state = status === "signed_out" ? "offline" : status;
  badge.textContent = connectionText(status) + (waiting ? ` · ${waiting} ${gettext("Väntar").toLowerCase()}` : "");
}

let toastTimer = null;
/** Show `text` in the #toast line for a while; an error stays longer and looks like one. */
export function toast(text, { error = false, ms = error ? 8000 : 3000 } = {}) {
  const box = $("#toast");
  box.textContent = text;
  box.classList.toggle("error", error);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), ms);
}

/**
 * The server data of a staff page (the field page, the duty map) and the lookups both make of it:
 * `label` (the model choices' labels by value) and `names` (teams and areas by id, my teams).
 */
export function staffConfig(id) {
  const config = serverData(id);
  const label = {
    category: Object.fromEntries(config.categories),
    severity: Object.fromEntries(config.severities),
    status: Object.fromEntries(config.statuses),
    activity: Object.fromEntries(config.activity_statuses),
  };
  const names = {
    teams: Object.fromEntries(config.teams.map((t) => [t.id, t.name])),
    areas: Object.fromEntries(config.areas.map((a) => [a.id, a.name])),
    myTeams: new Set(config.my_teams ?? []),
  };
  return { config, label, names };
}
