// What every part of the duty page reads: the server's data (json_script "ops-config"), the
// choices' labels, names by id, and whether this reader may act (duty) or only read (partner).

import { staffConfig } from "../../js/ui.js";

export const { config, label, names } = staffConfig("ops-config");
export const canAct = config.can_act;

// Teams are told apart on the map by a short code (the team's own, else its name's first letters):
// two teams whose codes would be the same ("Hamnen" HA, "Havsbadet" without one) get a number.
const teamsById = new Map(config.teams.map((t) => [t.id, t]));
const codes = new Map();
const taken = new Set();
for (const t of [...config.teams].sort((a, b) => a.id - b.id)) {
  const base = (t.short || t.name.slice(0, 2) || "?").toUpperCase();
  let code = base;
  for (let n = 2; taken.has(code); n += 1) code = `${base}${n}`;
  taken.add(code);
  codes.set(t.id, code);
}
// Names differing only in case (the database keeps them apart, a reader might not) get the code too.
const nameCount = new Map();
for (const t of config.teams) nameCount.set(t.name.toLowerCase(), (nameCount.get(t.name.toLowerCase()) ?? 0) + 1);

/** A team's name as the duty page writes it: "Centrum", or "Centrum (CE)" when another is named alike. */
export function teamName(id, fallback = "") {
  const team = teamsById.get(id);
  if (!team) return fallback;
  if ((nameCount.get(team.name.toLowerCase()) ?? 0) < 2) return team.name;
  return `${team.name} (${codes.get(id)})`;
}

/** The team's code on its marker and beside its name in the lists, unique on this page. */
export function teamCode(id) {
  return codes.get(id) ?? "?";
}
