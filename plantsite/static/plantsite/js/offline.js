// Every page: installs the service worker (the app works offline) and sends the photos that waited for a
// connection: now (the next visit) and whenever the connection returns. A browser with Background Sync also has
// the worker send them, tab closed or not.
(function () {
  "use strict";
  var data = document.currentScript.dataset;
  var OWNER = "plantsite-pages-user";  // who was signed in when the kept copies of pages were made
  if ("serviceWorker" in navigator && data.worker) {
    navigator.serviceWorker.register(data.worker, { scope: "/" }).catch(function () { /* the site works without */ });
  }
  // The kept copies of pages show the name and waiting photos of whoever was signed in: once someone else (or
  // no one) is, they go, whether that person logged out here or their session ran out. Offline, the page may itself
  // be such a copy (its data-user is the old one): nothing is decided then.
  if (window.caches && navigator.onLine) {
    var user = data.user || "";
    var owner = null;
    try { owner = localStorage.getItem(OWNER); } catch (e) { /* no storage: every visit drops the copies */ }
    if (owner !== user) {
      caches.delete(data.pagesCache).then(function () {
        try { localStorage.setItem(OWNER, user); } catch (e) { /* tried again at the next visit */ }
      });
    }
  }
  var logout = document.querySelector("form[action$='/logout/']");
  if (logout && window.caches) {
    logout.addEventListener("submit", function () { caches.delete(data.pagesCache); });
  }
  var queue = self.plantsiteQueue;
  if (!queue || !window.indexedDB || !data.user) return;

  function send() {
    var field = document.querySelector("[name=csrfmiddlewaretoken]");
    if (!navigator.onLine || !field) return;
    queue.sendAll(field.value, data.user).catch(function () { /* kept for the next try */ });
  }
  window.addEventListener("online", send);
  send();
})();
