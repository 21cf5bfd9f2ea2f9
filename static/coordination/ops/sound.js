// The duty page's sound: asked once ("with sound?"), the answer kept in localStorage, switched in
// the top bar. Browsers start audio only after a click or key on the page, so a remembered "on"
// plays from the reader's first touch of the page after a load.

import { gettext } from "../../js/i18n.js";
import { $ } from "../../js/ui.js";

const KEY = "narvaro-ops-sound";
let audio = null;

function stored() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function store(value) {
  try {
    localStorage.setItem(KEY, value);
  } catch {
    // storage off: the choice lasts as long as the page
  }
}

/** Does the duty officer want sound? */
export function soundWanted() {
  return stored() === "on";
}

function wake() {
  if (!soundWanted()) return;
  if (!audio) audio = new AudioContext();
  if (audio.state !== "running") audio.resume();
}

function draw() {
  const button = $("#sound");
  const on = soundWanted();
  if (button) {
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? gettext("Ljud på") : gettext("Slå på ljud");
  }
  const ask = $("#sound-ask");
  if (ask) ask.hidden = stored() !== null;
}

/** Turn the sound on or off and remember it. */
export function setSound(on) {
  store(on ? "on" : "off");
  if (on) wake();
  else audio?.suspend();
  draw();
}

/** Three short tones; silent when the officer chose no sound or the browser has not allowed it yet. */
export function beep() {
  if (!soundWanted() || !audio || audio.state !== "running") return;
  const start = audio.currentTime;
  for (let i = 0; i < 3; i += 1) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = i % 2 ? 660 : 880;
    gain.gain.setValueAtTime(0.0001, start + i * 0.3);
    gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.3 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.3 + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + i * 0.3);
    osc.stop(start + i * 0.3 + 0.27);
  }
}

/** Wire the top bar's switch and the one-time question. */
export function startSound() {
  $("#sound")?.addEventListener("click", () => setSound(!soundWanted()));
  document.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-sound-choice]");
    if (choice) setSound(choice.dataset.soundChoice === "on");
  });
  // The browser's permission to play comes with the first touch or key after a load.
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, wake, { capture: true });
  draw();
}
