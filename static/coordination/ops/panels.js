// The duty page's lists: alarms and the queue ("Att hantera"), teams, areas and tonight's events.
// The filters narrow the events (and the notes and activities on the map), never the teams, the
// areas or the alarms: nobody filters away a team or a call for help.

import { focusFirst } from "../../js/focus.js";
import { fmt, gettext } from "../../js/i18n.js";
import { adultsText, ageText, escapeHtml, timeText } from "../../js/maplayers.js";
import { $, setHtml } from "../../js/ui.js";
import { queueKeep, queueSize, queueUpsert } from "../queue.js";
import { canAct, label, names, teamCode, teamName } from "./context.js";

// --- filters ----------------------------------------------------------------------------------------

function filters() {
  return {
    category: $("#filter-category").value,
    team: $("#filter-team").value ? Number($("#filter-team").value) : null,
    area: $("#filter-area").value ? Number($("#filter-area").value) : null,
  };
}

/** Does a note, activity or event of the feed pass the filters? Teams, areas and alarms always do. */
export function passes(p, kind) {
  if (kind === "alert" || kind === "team" || kind === "area") return true;
  const f = filters();
  if (f.category && (kind !== "note" || p.category !== f.category)) return false;
  if (f.team !== null && p.team !== f.team) return false;
  if (f.area !== null) {
    if (kind === "note") return p.area === f.area;
    if (kind === "shift" || kind === "status") return (p.areas ?? []).includes(f.area);
    return false;
  }
  return true;
}

// --- alarms -------------------------------------------------------------------------------------------

/** Who an alarm is from: the team, or the person when they are in none. */
export function alarmFrom(a) {
  return (a.team ? teamName(a.team, a.team_name) : a.team_name) || a.raised_by || "";
}

function queued(live, type, field, id) {
  return (live.outbox?.list() ?? []).some((item) => item.frame.type === type && item.frame[field] === id);
}

function actionButton(live, { type, field, id, cls, attr, text }) {
  const busy = queued(live, type, field, id);
  return `<button type="button" class="${cls}" ${attr}="${id}"${busy ? " disabled" : ""}>${escapeHtml(busy ? gettext("Väntar") : text)}</button>`;
}

/** Raised alarms nobody acknowledged in time: level 1 on every duty screen, level 2 also the partner's. */
export function escalated(live) {
  const least = canAct ? 1 : 2;
  return live.state
    .layer("alert")
    .map((f) => f.properties)
    .filter((a) => a.status === "raised" && a.level >= least);
}

function renderAlarmBanner(live) {
  const waiting = escalated(live);
  const banner = $("#alarm-banner");
  banner.hidden = waiting.length === 0;
  if (!waiting.length) return;
  const oldest = waiting.reduce((a, b) => (Date.parse(a.raised_at) <= Date.parse(b.raised_at) ? a : b));
  const text = fmt(gettext("%(n)s larm utan kvittens – äldsta från %(from)s sedan %(time)s"), {
    n: waiting.length,
    from: alarmFrom(oldest),
    time: timeText(oldest.raised_at),
  });
  if (banner.dataset.text !== text) {
    banner.dataset.text = text; // rewritten only when it changed: a live region reads every change aloud
    banner.textContent = text;
  }
}

function alertCard(live, a) {
  const title = escapeHtml(fmt(gettext("Larm från %(team)s"), { team: alarmFrom(a) }));
  if (a.status !== "raised") {
    // Acknowledged: one line until someone ends it.
    const by = a.acknowledged_by ? fmt(gettext("Kvitterat av %(name)s"), { name: a.acknowledged_by }) : "";
    const action = canAct
      ? actionButton(live, {
          type: "resolve_alert",
          field: "alert",
          id: a.id,
          cls: "secondary small",
          attr: "data-resolve-alert",
          text: gettext("Avsluta"),
        })
      : "";
    return (
      `<article class="alert-card ${a.status}" data-id="alert.${a.id}" data-focus="alert.${a.id}" title="${escapeHtml(a.text)}">` +
      `<h3>${title}</h3> <span class="tag tag-acknowledged">${escapeHtml(by || gettext("Kvitterat"))}</span> ` +
      `<time>${timeText(a.raised_at)}</time>${action}</article>`
    );
  }
  let state = "";
  if (a.level >= 2)
    state = ` <span class="tag tag-escalated">${escapeHtml(gettext("Eskalerat: andra kontakten larmad"))}</span>`;
  else if (a.level === 1)
    state = ` <span class="tag tag-escalated">${escapeHtml(gettext("Eskalerat: ingen har kvitterat"))}</span>`;
  const action = canAct
    ? actionButton(live, {
        type: "ack_alert",
        field: "alert",
        id: a.id,
        cls: "danger",
        attr: "data-ack-alert",
        text: gettext("Kvittera"),
      })
    : "";
  const who = [a.raised_by, a.source === "tracker" ? gettext("SOS från spårningsappen") : ""].filter(Boolean);
  const level = a.level > 0 ? " escalated" : "";
  return (
    `<article class="alert-card raised${level}" data-id="alert.${a.id}" data-focus="alert.${a.id}">` +
    `<h3>${title}${state}</h3>` +
    `<p>${escapeHtml(a.text)} <span class="muted">${escapeHtml(who.join(" · "))}</span> ` +
    `<time>${timeText(a.raised_at)}</time></p>${action}</article>`
  );
}

/** Open alarms (raised first, newest first), the escalation banner; returns how many are raised. */
export function renderAlerts(live) {
  // A resolved alarm stays in the picture for its raiser's phone; the duty panel is for open ones.
  const alerts = live.state
    .layer("alert")
    .map((f) => f.properties)
    .filter((a) => a.status !== "resolved");
  alerts.sort((a, b) =>
    a.status === b.status ? Date.parse(b.raised_at) - Date.parse(a.raised_at) : a.status === "raised" ? -1 : 1,
  );
  renderAlarmBanner(live);
  setHtml($("#alerts"), alerts.map((a) => alertCard(live, a)).join(""));
  return alerts.filter((a) => a.status === "raised").length;
}

// --- the queue's own feeders ----------------------------------------------------------------------

function noteSummary(p) {
  const team = p.team ? teamName(p.team, names.teams[p.team]) : gettext("jouren");
  const where = p.area ? ` · ${escapeHtml(names.areas[p.area] ?? "")}` : "";
  const count = p.youth_count != null ? ` · ${escapeHtml(fmt(gettext("ca %(n)s unga"), { n: p.youth_count }))}` : "";
  return (
    `<strong>${escapeHtml(fmt(gettext("%(category)s – %(team)s"), { category: label.category[p.category], team }))}</strong>` +
    ` <span class="muted">${escapeHtml(label.severity[p.severity])}${count}${where}</span>`
  );
}

/** Unacknowledged notes and teams that need backup into the queue; what was handled leaves it. */
export function feedQueue(live) {
  const open = live.state
    .layer("note")
    .map((f) => f.properties)
    .filter((p) => p.status !== "acknowledged");
  for (const p of open) {
    const action = canAct
      ? actionButton(live, {
          type: "ack_note",
          field: "note",
          id: p.id,
          cls: "small",
          attr: "data-ack-note",
          text: gettext("Kvittera"),
        })
      : "";
    queueUpsert("note", p.id, {
      html: `<span class="sev sev-${p.severity}" aria-hidden="true"></span>${noteSummary(p)} <time>${timeText(p.created_at)}</time>${p.text ? `<p>${escapeHtml(p.text)}</p>` : ""}${action}`,
      at: p.created_at,
      priority: p.severity,
      focus: `note.${p.id}`,
    });
  }
  queueKeep(
    "note",
    open.map((p) => p.id),
  );
  const backup = live.state
    .layer("team")
    .map((f) => f.properties)
    .filter((t) => t.status === "need_backup");
  for (const t of backup) {
    const text = fmt(gettext("%(team)s behöver förstärkning"), { team: teamName(t.team, t.team_name) });
    queueUpsert("backup", t.team, {
      html: `<strong>${escapeHtml(text)}</strong> <span class="muted">${escapeHtml(ageText(t.recorded_at))}</span>`,
      at: t.status_at ?? t.started_at,
      priority: 4,
      sound: true,
      focus: `team.${t.team}`,
    });
  }
  queueKeep(
    "backup",
    backup.map((t) => t.team),
  );
}

/** The queue's size beside its heading and in the tab's title (raised alarms included). */
export function renderCounts(raised) {
  const waiting = raised + queueSize();
  $("#queue-count").textContent = waiting ? `(${waiting})` : "";
  $("#queue-empty").hidden = waiting > 0 || $("#alerts").children.length > 0;
  document.title = `${waiting ? `(${waiting}) ` : ""}${document.title.replace(/^\(\d+\) /, "")}`;
}

// --- teams and areas ----------------------------------------------------------------------------------

export function renderTeams(live) {
  const teams = live.state.layer("team").map((f) => f.properties);
  teams.sort(
    (a, b) => (b.status === "need_backup") - (a.status === "need_backup") || a.team_name.localeCompare(b.team_name),
  );
  setHtml(
    $("#teams"),
    teams.length
      ? teams
          .map((t) => {
            const areas = (t.areas ?? [])
              .map((id) => names.areas[id])
              .filter(Boolean)
              .join(", ");
            return (
              `<li class="team-item status-${t.status}" data-id="team.${t.team}" data-focus="team.${t.team}">` +
              `<span class="code" aria-hidden="true">${escapeHtml(teamCode(t.team))}</span>` +
              `<strong>${escapeHtml(teamName(t.team, t.team_name))}</strong> <span class="tag status">${escapeHtml(label.status[t.status] ?? t.status)}</span>` +
              `<span class="muted"> · ${escapeHtml(ageText(t.recorded_at))}${areas ? ` · ${escapeHtml(areas)}` : ""}</span></li>`
            );
          })
          .join("")
      : `<li class="muted">${escapeHtml(gettext("Inga team ute just nu."))}</li>`,
  );
}

export function renderAreas(live) {
  const areas = live.state.layer("area").map((f) => f.properties);
  areas.sort((a, b) => focusFirst(live.state, a, b) || b.priority - a.priority || a.name.localeCompare(b.name));
  setHtml(
    $("#areas"),
    areas
      .map(
        (a) =>
          `<li class="area-item ${a.adults ? "covered" : a.kind === "hotspot" ? "uncovered" : ""}" data-focus="area.${a.id}">` +
          `<strong>${escapeHtml(a.name)}</strong> <span class="muted">${escapeHtml(adultsText(a.adults))}</span></li>`,
      )
      .join(""),
  );
}

// --- tonight's events ---------------------------------------------------------------------------------

function feedEntryHtml(live, entry) {
  const at = `<time>${timeText(entry.at)}</time>`;
  if (entry.kind === "note") {
    const feature = live.state.features.get(entry.id);
    if (!feature) return "";
    const p = feature.properties;
    if (!passes(p, "note")) return "";
    // The button to acknowledge is in the queue; here the note says whether it was.
    const state =
      p.status === "acknowledged"
        ? `<span class="tag tag-acknowledged">${escapeHtml(gettext("Kvitterad"))}</span>`
        : `<span class="tag tag-new">${escapeHtml(gettext("Att hantera"))}</span>`;
    return (
      `<li class="feed-note sev-${p.severity} ${p.status}" data-id="${entry.id}" data-focus="${entry.id}">` +
      `${noteSummary(p)} ${at} ${state}${p.text ? `<p>${escapeHtml(p.text)}</p>` : ""}</li>`
    );
  }
  const d = entry.data;
  if (!passes(d, entry.kind)) return "";
  const team = d.team ? teamName(d.team, d.team_name) : d.team_name;
  let text = "";
  if (entry.kind === "alert") text = fmt(gettext("Larm från %(team)s"), { team: alarmFrom(d) });
  else if (entry.kind === "shift")
    text = fmt(d.active ? gettext("%(team)s startade passet") : gettext("%(team)s avslutade passet"), { team });
  else if (entry.kind === "status")
    text = fmt(gettext("%(team)s: %(status)s"), { team, status: label.status[d.status] ?? d.status });
  else if (entry.kind === "checkin") text = fmt(gettext("%(team)s är vid %(place)s"), { team, place: d.place_name });
  else if (entry.kind === "activity")
    text = fmt(gettext("Aktivitet: %(title)s (%(status)s)"), {
      title: d.title,
      status: label.activity[d.status] ?? d.status,
    });
  return `<li class="feed-${entry.kind}">${escapeHtml(text)} ${at}</li>`;
}

/** The feed (key -> {at, kind, ...}), newest first, as the filters allow. */
export function renderFeed(live, feed) {
  const entries = [...feed.values()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const html = entries.map((entry) => feedEntryHtml(live, entry)).join("");
  setHtml($("#feed"), html || `<li class="muted">${escapeHtml(gettext("Inget har hänt än i kväll."))}</li>`);
}
