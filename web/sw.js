// The web app's service worker: the app's own files from the network when it answers, from this
// cache when it does not, so a ticket page or the door scanner opened once keeps working offline.
// The API (/v1/) is never cached here: tickets and scanner bundles are kept by the pages themselves,
// and everything else must be live.
const CACHE = 'ticketd-web-v10';
const SHELL = [
  '/', '/app.css', '/js/app.js', '/js/api.js', '/js/ui.js', '/js/account_page.js', '/js/field_errors.js', '/js/event_page.js', '/js/queue_page.js',
  '/js/live_holds.js', '/js/hold_memory.js', '/js/saved_pick.js', '/js/queue_access.js', '/js/time_text.js', '/js/waitlist.js',
  '/js/seatmap.js', '/js/map_gestures.js', '/js/seat_glyphs.js', '/js/seat_picker.js', '/js/geometry.js', '/js/login_form.js', '/js/sse.js', '/js/ticket_page.js',
  '/js/resale.js', '/js/ticket_code.js', '/js/qr.js', '/vendor/qrcode.mjs',
  '/scan', '/js/scan.js', '/vendor/zxing/es/reader/index.js', '/vendor/zxing/es/share.js',
  '/vendor/zxing/reader/zxing_reader.wasm',
];

self.addEventListener('install', (event) => {
  // One file missing (an older server) must not stop the others from being kept.
  event.waitUntil(caches.open(CACHE).then((c) => Promise.all(SHELL.map((u) => c.add(u).catch(() => {}))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/v1/') || url.pathname === '/metrics' || url.pathname === '/healthz') return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const resp = await fetch(event.request);
      if (resp.ok) await cache.put(event.request, resp.clone());
      return resp;
    } catch (err) {
      const hit = await cache.match(event.request, { ignoreSearch: true });
      if (hit) return hit;
      // The pages load files under the app's version (/v/<version>/js/...), which changes with every
      // release; the files kept at install are under their plain names.
      const plain = url.pathname.match(/^\/v\/[0-9a-f]+(\/.*)$/);
      const kept = plain && await cache.match(plain[1]);
      if (kept) return kept;
      throw err;
    }
  })());
});
