// Result page: poll the status endpoint until the identification is done or failed, then reload.
(function () {
  "use strict";
  var root = document.getElementById("identification");
  if (!root || root.dataset.status === "done" || root.dataset.status === "failed") return;
  var delay = 700;
  function poll() {
    fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.status !== root.dataset.status) {
          if (data.finished) { window.location.reload(); return; }
          root.dataset.status = data.status;
        }
        delay = Math.min(delay * 1.3, 5000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, delay);
})();
