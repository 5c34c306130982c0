// flowdesk: small page behaviours that need no framework. Loaded on every page.
(function () {
  "use strict";
  function showError() {
    var box = document.getElementById("htmx-error");
    if (box) { box.hidden = false; }
  }
  document.addEventListener("htmx:responseError", showError);
  document.addEventListener("htmx:sendError", showError);
  // Bring the error summary of a re-shown form into view for keyboard and screen-reader users.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
