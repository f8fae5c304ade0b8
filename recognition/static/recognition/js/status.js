// Result page: poll the status until the worker finishes, then render the answer in place: the page title carries
// it, screen readers hear it and focus moves to it. Feedback: a typed species and a confirmed candidate exclude
// each other.
(function () {
  "use strict";
  var root = document.getElementById("result");
  if (!root) return;

  function linkFeedback() {
    var form = document.getElementById("feedback-form");
    if (!form) return;
    var typed = form.querySelector("[name=species]");
    var radios = Array.prototype.slice.call(form.querySelectorAll("[name=label]"));
    typed.addEventListener("input", function () {
      if (typed.value.trim()) radios.forEach(function (radio) { radio.checked = false; });
    });
    radios.forEach(function (radio) {
      radio.addEventListener("change", function () { if (radio.checked) typed.value = ""; });
    });
  }

  function showAnswer() {
    return fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("result");
        if (!fresh) { window.location.reload(); return; }
        root.innerHTML = fresh.innerHTML;
        root.dataset.status = fresh.dataset.status;
        document.title = page.title;
        var answer = root.querySelector("[data-answer]");
        document.getElementById("result-announcer").textContent = answer ? answer.textContent.trim() : page.title;
        if (answer) answer.focus();
        linkFeedback();
      });
  }

  linkFeedback();
  if (root.dataset.status === "done" || root.dataset.status === "failed") return;
  // The worker answers in a fraction of a second: ask early and often at first, then back off.
  var delay = 150;
  function poll() {
    fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.finished) return showAnswer();
        if (data && data.status === "running") {
          var line = document.getElementById("status-text");
          if (line) line.textContent = root.dataset.runningText;
        }
        delay = Math.min(delay * 1.3, 3000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, delay);
})();
