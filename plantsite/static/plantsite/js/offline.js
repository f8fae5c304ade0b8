// Every page: installs the service worker (the app works offline) and sends the photos that waited for a
// connection: now (the next visit) and whenever the connection returns. A browser with Background Sync also has
// the worker send them, tab closed or not.
(function () {
  "use strict";
  var data = document.currentScript.dataset;
  if ("serviceWorker" in navigator && data.worker) {
    navigator.serviceWorker.register(data.worker, { scope: "/" }).catch(function () { /* the site works without */ });
  }
  var logout = document.querySelector("form[action$='/logout/']");
  if (logout && window.caches) {
    // the kept copies of pages show this person's name: the next person on this phone must not see them
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
