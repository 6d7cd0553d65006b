// The /awards/ table: sort by any column, filter by tier, year, label and
// country. The state lives in the query string (?tier=gold&year=2021&sort=units&order=asc)
// so a filtered view can be shared. Without JavaScript the full table shows as it is.
(function () {
  "use strict";
  var table = document.getElementById("awards-table");
  var form = document.getElementById("awards-filters");
  var status = document.getElementById("awards-status");
  if (!table || !form || !table.tBodies[0]) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  rows.forEach(function (row, i) { row.setAttribute("data-index", String(i)); });
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var filters = ["tier", "year", "label", "country"];
  var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });
  var defaultKey = "", defaultOrder = "descending";
  headers.forEach(function (th) {
    if (th.hasAttribute("data-default")) {
      defaultKey = th.getAttribute("data-key");
      defaultOrder = th.getAttribute("data-default");
    }
  });
  var state = { sort: defaultKey, order: defaultOrder };

  function option(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { return true; }
    }
    return false;
  }

  // Reads the state from the query string, ignoring values the page does not offer.
  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    filters.forEach(function (name) {
      var select = form.elements.namedItem(name);
      var value = params.get(name) || "";
      select.value = option(select, value) ? value : "";
    });
    var key = params.get("sort");
    var known = headers.some(function (th) { return th.getAttribute("data-key") === key; });
    state.sort = known ? key : defaultKey;
    var order = params.get("order");
    state.order = order === "asc" ? "ascending" : order === "desc" ? "descending" :
      (known ? "ascending" : defaultOrder);
  }

  function writeUrl() {
    var params = new URLSearchParams();
    filters.forEach(function (name) {
      var value = form.elements.namedItem(name).value;
      if (value) { params.set(name, value); }
    });
    if (state.sort !== defaultKey || state.order !== defaultOrder) {
      params.set("sort", state.sort);
      params.set("order", state.order === "ascending" ? "asc" : "desc");
    }
    var query = params.toString();
    var url = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
    window.history.replaceState(null, "", url);
  }

  function cellValue(row, col, numeric) {
    var cell = row.cells[col];
    if (!cell) { return numeric ? null : ""; }
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (!numeric) { return raw; }
    return raw === "" ? null : Number(raw);
  }

  function sortRows() {
    var col = -1, numeric = false;
    headers.forEach(function (th, i) {
      var button = th.querySelector("button");
      if (th.getAttribute("data-key") === state.sort) {
        col = i;
        numeric = th.getAttribute("data-sort") === "number";
        th.setAttribute("aria-sort", state.order);
        if (button) { button.querySelector(".sort-mark").textContent = state.order === "ascending" ? "▲" : "▼"; }
      } else {
        th.removeAttribute("aria-sort");
        if (button) { button.querySelector(".sort-mark").textContent = ""; }
      }
    });
    if (col < 0) { return; }
    var dir = state.order === "ascending" ? 1 : -1;
    var sorted = rows.slice().sort(function (a, b) {
      var x = cellValue(a, col, numeric), y = cellValue(b, col, numeric);
      var c;
      // Rows without a value (unpublished figures) go last in either order.
      if (numeric && (x === null || y === null)) {
        c = x === null && y === null ? 0 : (x === null ? 1 : -1);
      } else {
        c = dir * (numeric ? x - y : collator.compare(x, y));
      }
      return c || Number(a.getAttribute("data-index")) - Number(b.getAttribute("data-index"));
    });
    sorted.forEach(function (row) { body.appendChild(row); });
  }

  function filterRows() {
    var want = {};
    filters.forEach(function (name) { want[name] = form.elements.namedItem(name).value; });
    var shown = 0;
    rows.forEach(function (row) {
      var ok = (!want.tier || row.getAttribute("data-tier") === want.tier) &&
        (!want.year || row.getAttribute("data-year") === want.year) &&
        (!want.label || row.getAttribute("data-label") === want.label) &&
        (!want.country || (row.getAttribute("data-countries") || "").split(" ").indexOf(want.country) >= 0);
      row.hidden = !ok;
      if (ok) { shown++; }
    });
    status.textContent = shown === rows.length ?
      "Showing all " + rows.length + " awards." :
      (shown === 0 ? "No award matches these filters." :
        "Showing " + shown + " of " + rows.length + " awards.");
  }

  function update() {
    sortRows();
    filterRows();
    writeUrl();
  }

  headers.forEach(function (th) {
    if (!th.hasAttribute("data-sort")) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    var mark = document.createElement("span");
    mark.className = "sort-mark";
    mark.setAttribute("aria-hidden", "true");
    while (th.firstChild) { button.appendChild(th.firstChild); }
    button.appendChild(mark);
    th.appendChild(button);
    button.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      if (state.sort === key) {
        state.order = state.order === "ascending" ? "descending" : "ascending";
      } else {
        state.sort = key;
        state.order = key === defaultKey ? defaultOrder : "ascending";
      }
      update();
    });
  });
  form.addEventListener("change", update);
  form.addEventListener("submit", function (e) { e.preventDefault(); update(); });
  // The reset event fires before the fields are cleared.
  form.addEventListener("reset", function () { window.setTimeout(update, 0); });
  form.hidden = false;
  readUrl();
  update();
}());
