// Signed out: drop the field page's offline copy (it holds the last live picture) from this device.
// The outbox is kept: it belongs to one user and is sent when that user signs in again.
if ("caches" in window) {
  caches.keys().then((keys) => keys.filter((k) => k.startsWith("narvaro-field")).forEach((k) => caches.delete(k)));
}
