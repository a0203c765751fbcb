/* resmark report: table sorting and filtering; no libraries, no network. */
(function () {
  "use strict";

  function cellValue(row, idx, type) {
    var cell = row.cells[idx];
    if (!cell) { return type === "num" ? -Infinity : ""; }
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { raw = cell.textContent || ""; }
    if (type === "num") {
      var n = parseFloat(raw);
      return isNaN(n) ? -Infinity : n;
    }
    return raw.trim().toLowerCase();
  }

  function makeSortable(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, idx) {
      th.setAttribute("tabindex", "0");
      th.setAttribute("role", "columnheader");
      function sort() {
        var type = th.getAttribute("data-type") || "text";
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (r, i) { r._order = i; });
        rows.sort(function (a, b) {
          var va = cellValue(a, idx, type), vb = cellValue(b, idx, type);
          if (va < vb) { return asc ? -1 : 1; }
          if (va > vb) { return asc ? 1 : -1; }
          return a._order - b._order;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); sort(); }
      });
    });
  }

  function setupFilter() {
    var table = document.getElementById("alt-table");
    if (!table) { return; }
    var text = document.getElementById("flt-text");
    var level = document.getElementById("flt-level");
    var gene = document.getElementById("flt-gene");
    var matched = document.getElementById("flt-matched");
    var counter = document.getElementById("row-count");
    function apply() {
      var q = text ? text.value.trim().toLowerCase() : "";
      var lv = level ? level.value : "";
      var g = gene ? gene.value : "";
      var only = matched ? matched.checked : false;
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var ok = true;
        if (q && (row.textContent || "").toLowerCase().indexOf(q) < 0) { ok = false; }
        if (ok && lv && row.getAttribute("data-level") !== lv) { ok = false; }
        if (ok && g && row.getAttribute("data-gene") !== g) { ok = false; }
        if (ok && only && row.getAttribute("data-matched") !== "yes") { ok = false; }
        row.classList.toggle("hidden-row", !ok);
        if (ok) { shown += 1; }
      });
      if (counter) { counter.textContent = shown + " of " + table.tBodies[0].rows.length + " shown"; }
    }
    [text, level, gene, matched].forEach(function (el) {
      if (el) {
        el.addEventListener("input", apply);
        el.addEventListener("change", apply);
      }
    });
    apply();
  }

  function openDetailsForPrint() {
    window.addEventListener("beforeprint", function () {
      Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
        d.setAttribute("data-was-open", d.open ? "1" : "0");
        d.open = true;
      });
    });
    window.addEventListener("afterprint", function () {
      Array.prototype.forEach.call(document.querySelectorAll("details[data-was-open]"), function (d) {
        d.open = d.getAttribute("data-was-open") === "1";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
    setupFilter();
    openDetailsForPrint();
    document.documentElement.setAttribute("data-ready", "1");
  });
})();
