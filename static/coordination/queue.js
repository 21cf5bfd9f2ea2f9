// The duty page's "Att hantera" queue (templates/coordination/ops.html, #queue): what waits for the
// duty officer, pinned above everything else, its size in the tab's title.
//
// Extension point. Anything that needs the duty officer's hand puts an item here and takes it away
// when it is handled; the duty page (static/coordination/ops.js) feeds it unacknowledged notes and
// teams needing backup, and draws raised alarms above it (#alerts); static/js/reports.js feeds it
// the citizen reports nobody has taken. A feeder is a module that imports queueUpsert and
// queueRemove (or queueKeep) from this one (the import is not written out here: the
// static files storage rewrites import statements, comments included, and this file would then
// name its own hashed name and never settle):
//
//   queueUpsert("report", report.id, {
//     html: `<strong>${escapeHtml(report.title)}</strong> <button data-…>…</button>`, // trusted HTML
//     at: report.created_at, // ISO time: the oldest item of a priority comes first
//     priority: 2, // optional: higher first (alarms are drawn apart, above; backup 3, notes 1)
//     sound: true, // optional: play the duty page's sound when the item is new (if the officer wants sound)
//     focus: "report.7", // optional: clicking the item shows this feature on the map (data-focus)
//   });
//   queueRemove("report", report.id); // handled: the item leaves (no-op when it is not there)
//
// queueUpsert(kind, id, html) with a plain string is short for { html }. Upserting the same kind
// and id again redraws the item in place; it returns true only when the item is new. Each item is
// an <li class="queue-item queue-<kind>" data-queue="<kind>.<id>"> holding `html`; the HTML is not
// escaped here, so escape what came from a person. onQueueChange(listener) calls
// listener({ added }) after every change, `added` being the new items ({kind, id, sound, ...}).

import { setHtml } from "../js/ui.js";

const items = new Map(); // "kind.id" -> {kind, id, html, at, priority, sound, focus}
const listeners = [];

function keyOf(kind, id) {
  return `${kind}.${id}`;
}

/** Add or redraw the item `kind`/`id` (see the comment above); true when it was not there before. */
export function queueUpsert(kind, id, item) {
  const options = typeof item === "string" ? { html: item } : item;
  const key = keyOf(kind, id);
  const isNew = !items.has(key);
  const entry = { priority: 0, at: null, sound: false, focus: null, ...options, kind, id };
  const old = items.get(key);
  if (old && old.html === entry.html && old.priority === entry.priority && old.at === entry.at) return false;
  items.set(key, entry);
  changed(isNew ? [entry] : []);
  return isNew;
}

/** Take the item `kind`/`id` out of the queue; true when it was there. */
export function queueRemove(kind, id) {
  const removed = items.delete(keyOf(kind, id));
  if (removed) changed([]);
  return removed;
}

/** Keep only the items of `kind` whose ids are in `ids` (a feeder that knows the whole set). */
export function queueKeep(kind, ids) {
  const keep = new Set([...ids].map(String));
  let removed = false;
  for (const [key, entry] of items) {
    if (entry.kind === kind && !keep.has(String(entry.id))) removed = items.delete(key) || removed;
  }
  if (removed) changed([]);
}

/** How many items wait. */
export function queueSize() {
  return items.size;
}

/** Call `listener({added})` after every change of the queue. */
export function onQueueChange(listener) {
  listeners.push(listener);
}

function ordered() {
  const at = (entry) => (entry.at ? Date.parse(entry.at) : 0);
  return [...items.values()].sort((a, b) => b.priority - a.priority || at(a) - at(b));
}

function changed(added) {
  draw();
  for (const listener of listeners) listener({ added });
}

function draw() {
  const list = document.getElementById("queue");
  if (!list) return;
  const html = ordered()
    .map((entry) => {
      const focus = entry.focus ? ` data-focus="${String(entry.focus).replace(/"/g, "")}"` : "";
      return `<li class="queue-item queue-${entry.kind}" data-queue="${keyOf(entry.kind, entry.id)}"${focus}>${entry.html}</li>`;
    })
    .join("");
  setHtml(list, html);
}
