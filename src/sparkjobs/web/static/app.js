// sparkjobs: keep a followed log at its end, unless the reader scrolled up to read.
(function () {
  "use strict";
  var atEnd = true;

  function log() { return document.getElementById("log-text"); }

  function isAtEnd(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 40; }

  document.addEventListener("DOMContentLoaded", function () {
    var el = log();
    if (el) { el.scrollTop = el.scrollHeight; }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = log();
    if (el && event.target.id === "log-poll") { atEnd = isAtEnd(el); }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var el = log();
    if (el && atEnd) { el.scrollTop = el.scrollHeight; }
  });
})();
