// The moderators' queue (templates/dialogue/queue.html): take a report, then publish, reject,
// answer, close, turn it into a situation note or mark its area. Each step is one POST; the
// server answers the report as it now is.

import { fmt, gettext } from "../js/i18n.js";
import { dayTimeText, escapeHtml } from "../js/maplayers.js";
import { $, serverData, setHtml, toast } from "../js/ui.js";

const config = serverData("queue-config");
const reports = new Map(config.reports.map((r) => [r.id, r]));
const labels = (pairs) => Object.fromEntries(pairs);
const CATEGORY = labels(config.categories);
const WHEN = labels(config.whens);
const STATUS = labels(config.statuses);

function csrf() {
  return document.querySelector("input[name=csrfmiddlewaretoken]").value;
}

async function act(id, action, body = {}) {
  const response = await fetch(`/jour/tips/${id}/${action}/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    toast(answer.message, { ms: 6000 });
    return;
  }
  reports.set(id, answer.report);
  render();
}

function item(r) {
  const mine = r.taken_by === config.user;
  const free = r.taken_by === null;
  const taken = free
    ? ""
    : `<p class="taken">${escapeHtml(fmt(gettext("Tagen av %(name)s"), { name: r.taken_by_name }))}</p>`;
  const flags = [
    STATUS[r.status],
    r.published ? gettext("publicerad") : "",
    r.rejected ? `${gettext("avvisad")}: ${r.reject_reason}` : "",
    r.note ? gettext("lägesnotering") : "",
    r.hotspot_candidate ? gettext("hotspotkandidat") : "",
    r.has_email ? gettext("vill ha svar") : "",
  ].filter(Boolean);
  const buttons = [];
  if (free) buttons.push(["take", gettext("Ta")]);
  if (mine) {
    buttons.push(["release", gettext("Lämna tillbaka")]);
    if (!r.published && !r.rejected) {
      buttons.push(["publish-area", gettext("Publicera (område)")]);
      buttons.push(["publish-point", gettext("Publicera (ungefärlig punkt)")]);
      buttons.push(["reject", gettext("Avvisa")]);
    }
    buttons.push(["answer", gettext("Svara")]);
    if (config.can_note && !r.note) buttons.push(["note", gettext("Gör till lägesnotering")]);
    if (r.area && !r.hotspot_candidate) buttons.push(["hotspot", gettext("Hotspotkandidat")]);
    if (r.status !== "closed") buttons.push(["close", gettext("Avsluta")]);
  }
  const where = r.lat == null ? "" : `${r.lat.toFixed(5)}, ${r.lon.toFixed(5)}`;
  return (
    `<li class="card report-item" data-report="${r.id}">` +
    `<strong>${escapeHtml(CATEGORY[r.category] ?? r.category)}</strong> ` +
    `<span class="muted">${escapeHtml([dayTimeText(r.created_at), WHEN[r.when], r.area_name, where].filter(Boolean).join(" · "))}</span>` +
    `<p>${escapeHtml(r.text)}</p>` +
    (r.has_photo
      ? `<a href="/jour/tips/${r.id}/foto/" target="_blank" rel="noopener">${escapeHtml(gettext("Visa foto"))}</a>`
      : "") +
    (r.answer ? `<p class="answer"><strong>${escapeHtml(gettext("Svar"))}:</strong> ${escapeHtml(r.answer)}</p>` : "") +
    `<p class="muted flags">${escapeHtml(flags.join(" · "))}</p>${taken}` +
    `<div class="actions">${buttons
      .map(
        ([a, text]) =>
          `<button type="button" class="small secondary" data-action="${a}" data-id="${r.id}">${escapeHtml(text)}</button>`,
      )
      .join("")}</div></li>`
  );
}

function render() {
  const list = [...reports.values()].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  const empty = `<li class="muted">${escapeHtml(gettext("Inga rapporter."))}</li>`;
  setHtml($("#queue"), list.map(item).join("") || empty);
}

$("#queue").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = Number(button.dataset.id);
  const action = button.dataset.action;
  if (action === "publish-area") act(id, "publish", { level: "area" });
  else if (action === "publish-point") act(id, "publish", { level: "point" });
  else if (action === "reject") {
    const reason = window.prompt(gettext("Skäl till att rapporten avvisas (visas för den som skrev):"));
    if (reason) act(id, "reject", { reason });
  } else if (action === "answer") {
    const answer = window.prompt(
      gettext("Kommunens svar (visas för den som skrev, och på kartan om rapporten är publicerad):"),
    );
    if (answer) act(id, "answer", { answer });
  } else act(id, action);
});

render();
