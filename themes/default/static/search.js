// Search page: queries the Pagefind index the build wrote under pagefind/.
// Plain JS, no framework, no request outside the site. Without JavaScript the
// page shows links to the pages that list everything instead.

const form = document.getElementById("search-form");
const nojs = document.getElementById("search-nojs");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const more = document.getElementById("search-more");
const PAGE = 25;

let pagefind = null;
let results = [];
let shown = 0;
let generation = 0;
let timer = 0;

function params() {
  const q = form.elements.q.value.trim();
  const filters = {};
  for (const sel of form.querySelectorAll("select[data-filter]")) {
    if (sel.value) filters[sel.dataset.filter] = sel.value;
  }
  const sortValue = form.elements.sort.value;
  const sort = {};
  if (sortValue) {
    const [key, dir] = sortValue.split(":");
    sort[key] = dir;
  }
  return { q, filters, sort, sortValue };
}

// The state lives in the URL so a search can be shared or bookmarked.
function saveState(p) {
  const url = new URL(window.location.href);
  url.search = "";
  if (p.q) url.searchParams.set("q", p.q);
  for (const [k, v] of Object.entries(p.filters)) url.searchParams.set(k, v);
  if (p.sortValue) url.searchParams.set("sort", p.sortValue);
  window.history.replaceState(null, "", url);
}

function loadState() {
  const sp = new URLSearchParams(window.location.search);
  form.elements.q.value = sp.get("q") || "";
  for (const sel of form.querySelectorAll("select")) {
    const v = sp.get(sel.name);
    if (v !== null && [...sel.options].some((o) => o.value === v)) sel.value = v;
  }
}

function item(data) {
  const li = document.createElement("li");
  li.className = "search-result";
  const h = document.createElement("h2");
  const a = document.createElement("a");
  a.href = data.url;
  a.textContent = data.meta.title || data.url;
  h.append(a);
  li.append(h);
  const facts = document.createElement("p");
  facts.className = "search-facts";
  const kind = document.createElement("span");
  kind.className = "search-kind";
  kind.textContent = data.meta.type || "";
  facts.append(kind);
  if (data.meta.tier) {
    const badge = document.createElement("span");
    badge.className = "badge tier-" + (Number(data.meta.tier_rank) % 8);
    const mark = document.createElement("span");
    mark.className = "badge-mark";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = String(Number(data.meta.tier_rank) + 1);
    badge.append(mark, document.createTextNode(data.meta.tier));
    facts.append(" ", badge);
  }
  if (data.meta.latest) {
    facts.append(" Latest award: " + data.meta.latest);
  }
  li.append(facts);
  if (data.meta.detail) {
    const d = document.createElement("p");
    d.className = "search-detail";
    d.textContent = data.meta.detail;
    li.append(d);
  }
  return li;
}

async function showMore(gen) {
  const next = results.slice(shown, shown + PAGE);
  const datas = await Promise.all(next.map((r) => r.data()));
  if (gen !== generation) return;
  for (const d of datas) list.append(item(d));
  shown += next.length;
  more.hidden = shown >= results.length;
}

async function run() {
  window.clearTimeout(timer);
  const gen = ++generation;
  delete list.dataset.query;
  const p = params();
  saveState(p);
  const empty = !p.q && Object.keys(p.filters).length === 0 && !p.sortValue;
  if (empty) {
    results = [];
    shown = 0;
    list.replaceChildren();
    more.hidden = true;
    status.textContent = "Type a name, or choose a filter.";
    list.dataset.query = "";
    return;
  }
  status.textContent = "Searching…";
  let search;
  try {
    search = await pagefind.search(p.q || null, { filters: p.filters, sort: p.sort });
  } catch (e) {
    if (gen === generation) status.textContent = "The search index could not be loaded.";
    return;
  }
  if (gen !== generation || !search) return;
  results = search.results;
  shown = 0;
  list.replaceChildren();
  const n = results.length;
  status.textContent = n === 0 ? "No result." : n === 1 ? "1 result." : n + " results.";
  await showMore(gen);
  // Tells scripts (and tests) which search the list shows.
  if (gen === generation) list.dataset.query = p.q;
}

function schedule() {
  window.clearTimeout(timer);
  timer = window.setTimeout(run, 200);
}

async function start() {
  try {
    pagefind = await import(form.dataset.bundle + "pagefind.js");
    await pagefind.options({ excerptLength: 20 });
    await pagefind.init();
  } catch (e) {
    status.textContent = "The search index could not be loaded.";
    return;
  }
  nojs.hidden = true;
  form.hidden = false;
  loadState();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run();
  });
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("reset", () => window.setTimeout(run, 0));
  more.addEventListener("click", () => showMore(generation));
  run();
}

if (form) start();
