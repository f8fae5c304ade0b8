// The API token page's copy button: puts the token on the clipboard and says so.
(function () {
  "use strict";
  var button = document.getElementById("copy-token");
  if (!button) return;
  button.addEventListener("click", function () {
    var token = document.getElementById("token-value").textContent.trim();
    navigator.clipboard.writeText(token).then(function () {
      document.getElementById("copy-status").textContent = button.dataset.copied;
      button.textContent = button.dataset.copied;
    });
  });
})();
