// Night mode for every page (loaded by templates/base.html). The page follows the device's
// prefers-color-scheme unless the reader chose light or dark with the menu's switch; the choice is
// kept in localStorage and in the `theme` cookie, from which the server writes <html data-theme>
// so the first paint already has the right colours (no inline script: the CSP forbids them).
//
// The map goes dark too: with MAP_TILES_DARK_URL set (<meta name="map-tiles-dark">) its tiles come
// from that dark style; without it the day tiles are darkened by a CSS filter (narvaro.css).

const KEY = "narvaro-theme";
const COOKIE_DAYS = 365;
const THEMES = ["light", "dark"];
const darkQuery = matchMedia("(prefers-color-scheme: dark)");
const root = document.documentElement;

/** The reader's choice: "light", "dark", or "" to follow the device. */
export function chosenTheme() {
  let stored = null;
  try {
    stored = localStorage.getItem(KEY);
  } catch {
    stored = null; // storage off (private mode): the cookie still carries the choice
  }
  if (stored === null) stored = root.dataset.theme ?? "";
  return THEMES.includes(stored) ? stored : "";
}

/** Is the page drawn dark now (by choice or by the device's setting)? */
export function isDark() {
  const theme = root.dataset.theme;
  return theme === "dark" || (!theme && darkQuery.matches);
}

function remember(theme) {
  try {
    if (theme) localStorage.setItem(KEY, theme);
    else localStorage.removeItem(KEY);
  } catch {
    // storage off: the cookie below still works
  }
  const age = theme ? COOKIE_DAYS * 86400 : 0;
  document.cookie = `theme=${theme}; path=/; max-age=${age}; SameSite=Lax`;
}

function apply(theme) {
  if (theme) root.dataset.theme = theme;
  else delete root.dataset.theme;
  for (const button of document.querySelectorAll("[data-theme-choice]")) {
    button.setAttribute("aria-pressed", String(button.dataset.themeChoice === theme));
  }
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) meta.content = isDark() ? "#0b1724" : "#17324d";
  window.dispatchEvent(new CustomEvent("narvaro:theme", { detail: { dark: isDark() } }));
}

/** Choose `theme` ("light", "dark" or "" for the device's setting), draw it and remember it. */
export function setTheme(theme) {
  const value = THEMES.includes(theme) ? theme : "";
  remember(value);
  apply(value);
}

/** Call `listener(dark)` whenever the page turns dark or light. */
export function onThemeChange(listener) {
  window.addEventListener("narvaro:theme", (event) => listener(event.detail.dark));
}

// --- the map ---------------------------------------------------------------------------------------

const darkUrl = document.querySelector('meta[name="map-tiles-dark"]')?.content ?? "";

/** Give a Leaflet map's tile layers the night style while the page is dark (and back by day). */
function followOnMap(map) {
  const tiles = [];
  map.eachLayer((layer) => {
    if (layer instanceof L.TileLayer) tiles.push({ layer, dayUrl: layer._url });
  });
  const draw = () => {
    const night = isDark() && darkUrl !== "";
    map.getContainer().classList.toggle("dark-tiles", night);
    for (const { layer, dayUrl } of tiles) {
      const url = night ? darkUrl : dayUrl;
      if (layer._url !== url) layer.setUrl(url);
    }
  };
  draw();
  onThemeChange(draw);
}

// django-leaflet makes its maps on window load, after this module ran.
window.addEventListener("map:init", (event) => followOnMap(event.detail.map));

// --- the switch ------------------------------------------------------------------------------------

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-theme-choice]");
  if (button) setTheme(button.dataset.themeChoice);
});
darkQuery.addEventListener("change", () => apply(root.dataset.theme ?? ""));
// A page from the field page's offline cache may carry an older choice than this device's.
apply(chosenTheme());
if ((root.dataset.theme ?? "") !== (document.cookie.match(/(?:^|; )theme=(\w*)/)?.[1] ?? "")) {
  remember(chosenTheme());
}
