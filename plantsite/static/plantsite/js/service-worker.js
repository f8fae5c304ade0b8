// The service worker, loaded by /sw.js after it set self.plantsiteWorker = {version, assets, pages, pagesCache,
// queue}: keeps the site's static files and the pages people open in the field, so that the app opens and takes
// photos without a connection, and sends the photos that waited (Background Sync).
"use strict";
var config = self.plantsiteWorker;
importScripts(config.queue);
var ASSETS = "plantsite-assets-" + config.version;

self.addEventListener("install", function (event) {
  // each file on its own: one that fails to arrive (a flaky connection) must not keep the worker from installing;
  // it is kept the first time a page asks for it
  event.waitUntil(caches.open(ASSETS).then(function (cache) {
    return Promise.all(config.assets.map(function (asset) {
      return cache.add(asset).catch(function () { /* fetched and kept on first use */ });
    }));
  }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("plantsite-assets-") === 0 && name !== ASSETS;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function fromNetworkKeeping(request, cacheName) {
  return fetch(request).then(function (response) {
    // not a redirect (to the login page, when signed out): that is no copy of the page asked for
    if (response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      caches.open(cacheName).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (config.assets.indexOf(url.pathname) >= 0) {
    // the names carry their content's hash in production: a kept file is never stale
    event.respondWith(caches.match(request).then(function (kept) {
      return kept || fromNetworkKeeping(request, ASSETS);
    }));
  } else if (request.mode === "navigate" && config.pages.indexOf(url.pathname) >= 0) {
    // the network first (fresh page, fresh form token); the last copy when there is none
    event.respondWith(fromNetworkKeeping(request, config.pagesCache).catch(function () {
      return caches.match(request, { ignoreSearch: true }).then(function (kept) {
        return kept || Response.error();
      });
    }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "plantsite-upload") {
    event.waitUntil(self.plantsiteQueue.sendAll(null, null).then(function (outcomes) {
      var kept = outcomes.filter(function (outcome) { return outcome.outcome === "kept"; });
      // rejecting asks the browser to fire the sync again later
      if (kept.length) throw new Error(kept.length + " batches still waiting");
    }));
  }
});
