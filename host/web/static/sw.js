// sw.js - the spending-code page's service worker (scope /portal/spend/):
// keeps the page and its scripts so the page opens without a network, where
// it shows codes from the key and certificate in IndexedDB (spend.js). The
// network is asked first, so an update is taken whenever the phone is online;
// nothing but these four files is kept (the API's answers never are).
'use strict';

const CACHE = 'leal-spend-1';
const FILES = ['/portal/spend/', '/portal/spend/spend.js', '/portal/spend/qr.js', '/app.css'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || !FILES.includes(url.pathname)) return;
  e.respondWith(
    fetch(e.request)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(url.pathname, copy));
        }
        return res;
      })
      .catch(() => caches.match(url.pathname)),
  );
});
