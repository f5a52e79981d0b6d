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

// sparkjobs: rows of environment variables: add and remove them in place, and hide a value
// while its Secret box is ticked. Buttons are real buttons, so the keyboard works as usual.
(function () {
  "use strict";

  function renumber(env) {
    env.querySelectorAll("[data-env-row]").forEach(function (row, i) {
      row.querySelectorAll(".visually-hidden").forEach(function (span) {
        span.textContent = span.textContent.replace(/\d+$/, String(i + 1));
      });
    });
  }

  function addRow(env) {
    var next = Number(env.getAttribute("data-env-next")) || 0;
    var template = env.querySelector("template[data-env-template]");
    var html = template.innerHTML.replace(/__N__/g, String(next)).replace(/__NUM__/g, "0");
    env.setAttribute("data-env-next", String(next + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    env.querySelector("[data-env-list]").appendChild(row);
    renumber(env);
    row.querySelector("input").focus();
  }

  function removeRow(button) {
    var env = button.closest("[data-env]");
    button.closest("[data-env-row]").remove();
    renumber(env);
    env.querySelector("[data-env-add]").focus();
  }

  function toggleSecret(box) {
    var row = box.closest("[data-env-row]");
    var value = row.querySelector(".env-value input:not([type=hidden])");
    row.classList.toggle("is-secret", box.checked);
    value.type = box.checked ? "password" : "text";
    value.autocomplete = box.checked ? "new-password" : "off";
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-env-add]");
    var remove = event.target.closest("[data-env-remove]");
    if (add) { addRow(add.closest("[data-env]")); }
    if (remove) { removeRow(remove); }
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-env-secret]")) { toggleSecret(event.target); }
  });
})();
