// Every page: a select marked data-submit-on-change sends its form when changed (the language switch); a
// file, not an inline handler, so that the Content-Security-Policy allows it.
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
})();
