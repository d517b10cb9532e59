// The rota board: drag a visit onto a carer's day to give it to them, or onto
// the unassigned lane to take it off; or open a visit (click, Enter) and choose
// a carer in the panel. htmx sends each change and puts the answer (done, or
// every reason it was refused) in the panel; the grid reloads itself after a
// change (hx-trigger "rota-changed").
(function () {
  var root = document.querySelector("[data-rota]");
  if (!root || !window.htmx) return;
  // before htmx starts (on DOMContentLoaded): no inline style of its own (the
  // CSP refuses it) and no script from attributes
  htmx.config.includeIndicatorStyles = false;
  htmx.config.allowEval = false;
  var csrf = root.getAttribute("data-csrf");
  var base = root.getAttribute("data-visit-base");
  var back = root.getAttribute("data-back");
  var dragged = null;

  function clearMarks() {
    root.querySelectorAll(".cell-refusal").forEach(function (n) { n.remove(); });
    root.querySelectorAll(".drop-over").forEach(function (n) { n.classList.remove("drop-over"); });
  }

  // a form in the panel (keyboard assignment, a bulk action) clears the last refusal too
  root.addEventListener("htmx:beforeRequest", clearMarks);

  // a chip names its visit in its link; its day and carer are its cell's
  function visitOf(chip) { return chip.getAttribute("href").split("/").pop(); }
  function cellOf(chip) { return chip.closest("td"); }

  function toPanel(method, url, values) {
    clearMarks();
    var options = { target: "#rota-panel", swap: "innerHTML" };
    if (method === "POST") {
      values.csrf_token = csrf;
      values.back = back;
      options.values = values;
      options.headers = { "X-CSRFToken": csrf };
    }
    return htmx.ajax(method, url, options);
  }

  function choose(chip) {
    root.querySelectorAll("a.chip[aria-current]").forEach(function (c) { c.removeAttribute("aria-current"); });
    chip.setAttribute("aria-current", "true");
    toPanel("GET", base + visitOf(chip) + "?back=" + encodeURIComponent(back));
  }

  root.addEventListener("click", function (event) {
    var chip = event.target.closest("a.chip");
    if (chip) {
      event.preventDefault();
      choose(chip);
      return;
    }
    if (event.target.closest("[data-close-panel]")) {
      var panel = document.getElementById("rota-panel");
      panel.replaceChildren();
      clearMarks();
      var current = root.querySelector("a.chip[aria-current]");
      if (current) { current.removeAttribute("aria-current"); current.focus(); }
      return;
    }
    var link = event.target.closest("a[data-panel-link]");
    if (link) {
      event.preventDefault();
      toPanel("GET", link.getAttribute("href"));
    }
  });

  root.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest("#rota-panel")) return;
    var close = document.querySelector("#rota-panel [data-close-panel]");
    if (close) close.click();
  });

  function dropCell(event) {
    if (!dragged || !event.target.closest) return null;
    var cell = event.target.closest("td[data-staff], td[data-lane]");
    // a visit changes hands on its own day; moving it to another day is the visit sheet's
    if (!cell || cell.getAttribute("data-day") !== cellOf(dragged).getAttribute("data-day")) return null;
    return cell;
  }

  root.addEventListener("dragstart", function (event) {
    var chip = event.target.closest && event.target.closest("a.chip");
    if (!chip || chip.getAttribute("draggable") !== "true") {
      event.preventDefault();
      return;
    }
    dragged = chip;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", visitOf(chip));
    root.classList.add("dragging");
  });

  root.addEventListener("dragend", function () {
    dragged = null;
    root.classList.remove("dragging");
    root.querySelectorAll(".drop-over").forEach(function (n) { n.classList.remove("drop-over"); });
  });

  root.addEventListener("dragover", function (event) {
    var cell = dropCell(event);
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("drop-over");
  });

  root.addEventListener("dragleave", function (event) {
    var cell = event.target.closest && event.target.closest("td");
    if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove("drop-over");
  });

  root.addEventListener("drop", function (event) {
    var cell = dropCell(event);
    if (!cell) return;
    event.preventDefault();
    var chip = dragged;
    var id = visitOf(chip);
    var from = cellOf(chip).getAttribute("data-staff");
    if (cell.hasAttribute("data-lane")) {
      if (from) toPanel("POST", base + id + "/unassign", {});
    } else if (cell.getAttribute("data-staff") !== from) {
      chip.setAttribute("aria-current", "true");
      toPanel("POST", base + id + "/assign", { staff_id: cell.getAttribute("data-staff") });
    }
    cell.classList.remove("drop-over");
  });
})();
