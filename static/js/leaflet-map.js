// Starts a django-leaflet map from the data attributes of the element just before this script
// (templates/leaflet/_leaflet_map.html), instead of the package's inline script, which the
// Content-Security-Policy refuses. A classic script on purpose: it runs where it stands, as the
// inline loader did, and fires the same map:init event the pages listen for.
(function () {
  const config = document.currentScript && document.currentScript.previousElementSibling;
  if (!config || !config.dataset.leafletMap) return;
  const name = config.dataset.leafletMap;
  const djoptions = JSON.parse(config.dataset.djoptions);
  const loadevents = JSON.parse(config.dataset.loadevents);
  const globals = config.dataset.globals === "true";

  function loadmap() {
    const options = { djoptions, initfunc: loadmap, globals, callback: null };
    const map = window.L.Map.djangoMap(name, options);
    if (globals) window["leafletmap" + name] = map;
  }

  if (loadevents.length === 0) loadmap();
  else loadevents.forEach((event) => window.addEventListener(event, loadmap, false));
  if (globals) window["loadmap" + name] = loadmap;
})();
