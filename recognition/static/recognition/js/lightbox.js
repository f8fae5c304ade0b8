// Result page: a photo link marked data-lightbox opens its full-size photo in a dialog over the page instead of
// leaving it; Escape, the Close button or a click beside the photo closes it, and focus goes back to the thumbnail.
// Without this script the link simply opens the full-size photo. Clicks are caught on the document because the
// status script replaces the answer (and its links) when it arrives.
(function () {
  "use strict";
  var dialog = document.getElementById("lightbox");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var image = document.getElementById("lightbox-image");
  var caption = document.getElementById("lightbox-caption");
  var opener = null;

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // a new tab or window as asked
    var link = event.target.closest && event.target.closest("a[data-lightbox]");
    if (!link) return;
    event.preventDefault();
    var thumbnail = link.querySelector("img");
    var name = thumbnail ? thumbnail.alt : link.textContent.trim();
    image.src = link.href;
    image.alt = name;
    caption.textContent = name;
    opener = link;
    dialog.showModal();
  });

  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) dialog.close(); // the backdrop or the frame, not the photo or the bar
  });

  dialog.addEventListener("close", function () {
    image.removeAttribute("src");
    if (opener && document.body.contains(opener)) opener.focus();
    opener = null;
  });
})();
