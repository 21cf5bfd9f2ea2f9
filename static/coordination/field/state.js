// The phone's one honest line: what the duty officer can actually see of this phone, from real
// state only (the server's acks, the outbox, the socket, the person's own choice), never a hope.

import { fmt, gettext } from "../../js/i18n.js";

// A position unacknowledged this long on an open socket counts as "not sent" rather than "sending".
export const STUCK_AFTER_MS = 15000;

function clock(ms, lang) {
  // The evening's times are Stockholm's (the house rule), whatever zone the phone is set to.
  return new Date(ms).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Stockholm" });
}

/**
 * The sharing line for the shift card: {state, text, login}. `state` names the CSS look and what the
 * tests read; `login` asks for a "Logga in igen" link beside the text.
 *
 *   onShift       this phone's shift (server picture or a queued start)
 *   consent       "yes" | "no" | "ask": the person's choice for this shift
 *   paused        the person paused sharing
 *   geoError      why the browser gives no position, or null
 *   hasFix        a position has been read
 *   status        the Live status: "online" | "connecting" | "offline" | "signed_out"
 *   lastAck       when the server last acknowledged one of this phone's positions (ms), or null
 *   oldestQueued  when the oldest position still in the outbox was taken (ms), or null
 */
export function sharingLine(
  { onShift, consent, paused, geoError, hasFix, status, lastAck, oldestQueued, accuracy = null, now = Date.now() },
  lang = undefined,
) {
  // Signed out first: nothing is sent whatever this phone last knew of the shift, and signing in is
  // what helps (the picture of the shift may already be gone with the session).
  if (status === "signed_out") {
    return { state: "signed_out", text: gettext("Utloggad – positionen skickas inte."), login: true };
  }
  if (!onShift) return { state: "off", text: "", login: false };
  if (consent === "ask")
    return { state: "ask", text: gettext("Positionen delas inte – du har inte svarat än"), login: false };
  if (consent === "no")
    return { state: "paused", text: gettext("Positionen delas inte (du valde att inte dela)"), login: false };
  if (paused) return { state: "paused", text: gettext("Positionen delas inte (pausad)"), login: false };
  if (geoError) {
    return {
      state: "error",
      text: fmt(gettext("Positionen kan inte delas: %(reason)s"), { reason: geoError }),
      login: false,
    };
  }
  const stuck = oldestQueued !== null && (status !== "online" || now - oldestQueued > STUCK_AFTER_MS);
  if (stuck) {
    return {
      state: "queued",
      text: fmt(gettext("Inte skickat sedan %(time)s – sparas på telefonen"), {
        time: clock(lastAck ?? oldestQueued, lang),
      }),
      login: false,
    };
  }
  if (status !== "online") {
    return {
      state: "queued",
      text: lastAck
        ? fmt(gettext("Inte skickat sedan %(time)s – sparas på telefonen"), { time: clock(lastAck, lang) })
        : gettext("Inte ansluten – positionen sparas på telefonen"),
      login: false,
    };
  }
  if (!hasFix) return { state: "waiting", text: gettext("Väntar på position …"), login: false };
  if (lastAck === null) return { state: "waiting", text: gettext("Skickar position …"), login: false };
  const around = accuracy === null ? "" : ` (±${Math.round(accuracy)} m)`;
  return {
    state: "on",
    text: fmt(gettext("Jouren ser dig – senast %(time)s"), { time: clock(lastAck, lang) }) + around,
    login: false,
  };
}

/**
 * The line above every tab when the page is not live: {state, text, login} or null when live.
 * `dataAt` (ms) is when the picture on screen was last known to be current.
 */
export function pageLine({ status, dataAt }, lang = undefined) {
  if (status === "online") return null;
  const age = dataAt ? fmt(gettext("Data från %(time)s"), { time: clock(dataAt, lang) }) : "";
  if (status === "signed_out") {
    return { state: "signed_out", text: [gettext("Du är utloggad."), age].filter(Boolean).join(" "), login: true };
  }
  const what = status === "offline" ? gettext("Ingen anslutning.") : gettext("Ansluter …");
  return { state: status, text: [what, age].filter(Boolean).join(" "), login: false };
}
