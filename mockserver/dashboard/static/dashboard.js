// The refund-mock dashboard: reads and drives the mock through its admin API only.
"use strict";

const JOURNAL_POLL_MS = 500; // new requests show within a second
const SLOW_POLL_MS = 2000; // scenarios; orders too when a request came in since
const ORDERS_REFRESH_MS = 10000; // orders at least this often (an order loaded through the admin API)
const JOURNAL_SHOWN = 200;
const ORDERS_PAGE = 25; // orders per platform on a page: what one read decodes, however large the store
const TOKEN_KEY = "refund-mock-admin-token";
const SESSION_KEY = "refund-mock-session";
const EVERY_SESSION = "*"; // the selector's "all sessions": every session's journal, the default session's state

const state = {
  token: null,
  session: EVERY_SESSION, // the selector's choice: EVERY_SESSION, "" (the default session) or a session's name
  sessionNames: "",
  entries: new Map(),
  journalKey: "",
  selected: null,
  scenariosKey: "",
  sessionsKey: "",
  ordersKey: "",
  ordersRead: 0, // when the orders were last read (ms)
  platforms: [], // known from the first read of the orders
  cursors: {}, // per platform: the `after` of each page before the one shown (empty: the first page)
  pagesShown: null, // the `pages` of the orders drawn: total and the next page's cursor, per platform
  // bumped by a reset (both) and a switch (scenarios): a read begun before is stale, not drawn
  journalEpoch: 0,
  scenariosEpoch: 0,
  ordersEpoch: 0, // bumped by a reset, a page turn and a change of session
};

function $(selector) {
  return document.querySelector(selector);
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function say(message) {
  $("#status").textContent = message;
}

// The session the orders, scenarios, reset and (but for "all sessions") the journal act on: "" is the default.
function actingSession() {
  return state.session === EVERY_SESSION ? "" : state.session;
}

function sessionHeaders() {
  const session = actingSession();
  return session ? { "X-Mock-Session": session } : {};
}

async function api(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  const sentToken = state.token;
  if (sentToken) headers["X-Mock-Admin-Token"] = sentToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  if (response.status === 401) {
    if (sentToken !== state.token) throw new Error("sent before the token was set"); // a poll still in flight
    $("#token-form").hidden = false;
    say("The mock wants its admin token: type it in above.");
    throw new Error("unauthorized");
  }
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const message = answer && answer.message ? answer.message : `${method} ${path} answered ${response.status}`;
    say(message);
    throw new Error(message);
  }
  return answer;
}

// -- journal -------------------------------------------------------------------------------------

function pretty(value) {
  if (value === null || value === undefined) return "(none)";
  return JSON.stringify(value, null, 2);
}

function showDetail(id, moveFocus) {
  const entry = state.entries.get(id);
  if (!entry) return;
  state.selected = id;
  $("#detail").hidden = false;
  $("#detail-heading").textContent = `${entry.method} ${entry.path}${entry.query ? "?" + entry.query : ""} → ${entry.status}`;
  $("#detail-request").textContent = pretty(entry.body);
  // `serve --proxy`: the store answered, and the journal keeps its answer under `proxy`
  $("#detail-response").textContent = pretty(entry.proxy ? entry.proxy.response : entry.response);
  for (const row of document.querySelectorAll("#journal tbody tr")) {
    row.classList.toggle("selected", row.dataset.id === String(id));
  }
  if (moveFocus) $("#detail-heading").focus();
}

function renderJournal(answer) {
  const requests = answer.requests.slice().reverse(); // newest first
  const key = `${answer.count}:${requests.length ? requests[0].id : 0}`;
  if (key === state.journalKey) return;
  state.journalKey = key;
  state.ordersRead = 0; // a request may have changed an order: read them at the next slow poll
  state.entries = new Map(requests.map((entry) => [entry.id, entry]));
  const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : null;
  const rows = requests.map((entry) => {
    const button = el("button", { type: "button", className: "path", "data-id": String(entry.id), text: entry.path });
    button.addEventListener("click", () => showDetail(entry.id, true));
    return el(
      "tr",
      { "data-id": String(entry.id), className: entry.id === state.selected ? "selected" : null },
      el("td", { text: entry.time.slice(11, 23) }),
      el("td", { text: entry.session || "default" }),
      el("td", { text: entry.method }),
      el("td", {}, button),
      el("td", { className: `num s${String(entry.status)[0]}`, text: String(entry.status) }),
      el("td", { text: entry.scenario || "" }),
      el("td", { className: "num", text: entry.duration_ms.toFixed(1) }),
    );
  });
  $("#journal tbody").replaceChildren(...rows);
  if (focusedId) {
    const again = document.querySelector(`#journal button[data-id="${focusedId}"]`);
    if (again) again.focus();
  }
  if (!requests.length) {
    $("#journal-summary").textContent = "No requests recorded.";
    $("#detail").hidden = true;
    state.selected = null;
  } else {
    const newest = requests[0];
    const noun = answer.count === 1 ? "request" : "requests";
    $("#journal-summary").textContent =
      `${answer.count} ${noun} recorded; newest: ${newest.method} ${newest.path} answered ${newest.status}.`;
  }
}

async function pollJournal() {
  try {
    const epoch = state.journalEpoch;
    const every = state.session === EVERY_SESSION ? "&all_sessions=true" : "";
    const journal = await api("GET", `/__mock/requests?limit=${JOURNAL_SHOWN}${every}`, undefined, sessionHeaders());
    if (epoch === state.journalEpoch) renderJournal(journal);
  } catch (error) {
    // shown in the status line; the next poll tries again
  }
}

// -- scenarios -----------------------------------------------------------------------------------

async function toggleScenario(button) {
  const name = button.dataset.name;
  const wanted = button.getAttribute("aria-pressed") !== "true";
  button.disabled = true;
  state.scenariosEpoch++;
  try {
    const path = `/__mock/scenarios/${encodeURIComponent(name)}/active`;
    const scenario = await api("PUT", path, { active: wanted }, sessionHeaders());
    button.setAttribute("aria-pressed", String(scenario.active));
    button.textContent = scenario.active ? "On" : "Off";
    say(`Scenario ${name} switched ${scenario.active ? "on" : "off"} for ${sessionPhrase()}.`);
    state.scenariosKey = "";
    state.scenariosEpoch++;
  } catch (error) {
    // shown in the status line
  } finally {
    button.disabled = false;
    button.focus();
  }
}

function renderScenarios(answer) {
  const key = JSON.stringify(answer.scenarios.map((s) => [s.name, s.active, s.rules.map((r) => r.answered)]));
  if (key === state.scenariosKey) return;
  state.scenariosKey = key;
  const tbody = $("#scenarios tbody");
  const existing = new Map([...tbody.querySelectorAll("tr")].map((row) => [row.dataset.name, row]));
  const rows = answer.scenarios.map((scenario) => {
    const answered = scenario.rules.reduce((sum, rule) => sum + rule.answered, 0);
    let row = existing.get(scenario.name);
    if (!row) {
      const button = el("button", {
        type: "button",
        className: "switch",
        "data-name": scenario.name,
        "aria-label": `Scenario ${scenario.name} active`,
      });
      button.addEventListener("click", () => toggleScenario(button));
      row = el(
        "tr",
        { "data-name": scenario.name },
        el("td", {}, button),
        el("th", { scope: "row", text: scenario.name }),
        el("td", { text: scenario.source }),
        el("td", { text: scenario.description }),
        el("td", { className: "num answered" }),
      );
    }
    const button = row.querySelector("button.switch");
    button.setAttribute("aria-pressed", String(scenario.active));
    button.textContent = scenario.active ? "On" : "Off";
    row.querySelector(".answered").textContent = String(answered);
    return row;
  });
  const focused = document.activeElement;
  tbody.replaceChildren(...rows);
  if (focused && tbody.contains(focused)) focused.focus();
}

// -- orders --------------------------------------------------------------------------------------

const PLATFORM_TITLES = { shopify: "Shopify", bigcommerce: "BigCommerce" };

function currentAfter(platform) {
  const cursors = state.cursors[platform] || [];
  return cursors.length ? cursors[cursors.length - 1] : null;
}

async function readOrders() {
  const epoch = state.ordersEpoch;
  const headers = sessionHeaders();
  let answer;
  if (!state.platforms.length) {
    answer = await api("GET", `/__mock/orders?limit=${ORDERS_PAGE}`, undefined, headers);
  } else {
    // one read per platform: each at its own page
    const parts = await Promise.all(
      state.platforms.map((platform) => {
        const after = currentAfter(platform);
        const cursor = after === null ? "" : `&after=${after}`;
        return api("GET", `/__mock/orders?platform=${platform}&limit=${ORDERS_PAGE}${cursor}`, undefined, headers);
      }),
    );
    answer = { platforms: {}, pages: {} };
    for (const part of parts) {
      Object.assign(answer.platforms, part.platforms);
      Object.assign(answer.pages, part.pages);
    }
  }
  if (epoch !== state.ordersEpoch) return; // the session or the page changed meanwhile
  state.platforms = Object.keys(answer.platforms);
  const emptied = state.platforms.filter((p) => !answer.platforms[p].length && currentAfter(p) !== null);
  if (emptied.length) {
    // orders were removed under the page shown: back to the first page
    for (const platform of emptied) state.cursors[platform] = [];
    state.ordersEpoch++;
    return readOrders();
  }
  renderOrders(answer);
}

async function turnPage(platform, forward) {
  const cursors = (state.cursors[platform] = state.cursors[platform] || []);
  if (forward) {
    const next = state.pagesShown && state.pagesShown[platform] ? state.pagesShown[platform].next : null;
    if (next === null) return;
    cursors.push(next);
  } else {
    if (!cursors.length) return;
    cursors.pop();
  }
  state.ordersEpoch++;
  state.ordersRead = Date.now();
  try {
    await readOrders();
    const range = document.getElementById(`orders-${platform}-range`);
    if (range) say(`${range.textContent}.`); // the status line: a screen reader hears where the page is
  } catch (error) {
    // shown in the status line
  }
}

function pageButtons(platform, title, page) {
  const first = !(state.cursors[platform] || []).length;
  const previous = el("button", {
    type: "button",
    id: `orders-${platform}-previous`,
    "aria-label": `Previous ${title} orders`,
    text: "Previous",
  });
  const next = el("button", {
    type: "button",
    id: `orders-${platform}-next`,
    "aria-label": `Next ${title} orders`,
    text: "Next",
  });
  previous.disabled = first;
  next.disabled = page.next === null;
  previous.addEventListener("click", () => turnPage(platform, false));
  next.addEventListener("click", () => turnPage(platform, true));
  return [previous, next];
}

function renderOrders(answer) {
  const key = JSON.stringify([answer, state.cursors]);
  if (key === state.ordersKey) return;
  state.ordersKey = key;
  state.pagesShown = answer.pages;
  const focusedId = document.activeElement ? document.activeElement.id : "";
  const sections = Object.entries(answer.platforms).map(([platform, orders]) => {
    const title = PLATFORM_TITLES[platform] || platform;
    const page = answer.pages[platform] || { total: orders.length, next: null };
    const rows = orders.map((order) => {
      const refunds = order.refunds.length
        ? el(
            "ul",
            { className: "refunds" },
            ...order.refunds.map((refund) =>
              el("li", {
                text: `${refund.id}: ${refund.amount} ${order.currency}, ${refund.units} ${refund.units === 1 ? "unit" : "units"}${refund.created_at ? ", " + refund.created_at : ""}`,
              }),
            ),
          )
        : "none";
      return el(
        "tr",
        {},
        el("th", { scope: "row", text: `${order.name} (${order.order_id})` }),
        el("td", { className: "num", text: String(order.units_left) }),
        el("td", { className: "num", text: `${order.money_left} ${order.currency}` }),
        el("td", {}, refunds),
      );
    });
    const table = el(
      "table",
      { id: `orders-${platform}` },
      el("caption", { className: "visually-hidden", text: `${title} orders and what is left to refund` }),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col", text: "Order" }),
          el("th", { scope: "col", className: "num", text: "Units left" }),
          el("th", { scope: "col", className: "num", text: "Money left" }),
          el("th", { scope: "col", text: "Refunds" }),
        ),
      ),
      el("tbody", {}, ...rows),
    );
    const start = (state.cursors[platform] || []).length * ORDERS_PAGE;
    const shown = orders.length ? `${start + 1}–${start + orders.length} of ${page.total}` : `none of ${page.total}`;
    const noun = page.total === 1 ? "order" : "orders";
    const pager = el(
      "div",
      { className: "pager" },
      el("span", { id: `orders-${platform}-range`, text: `${title} ${noun} ${shown}` }),
      ...pageButtons(platform, title, page),
    );
    return el(
      "div",
      {},
      el("h3", { text: `${title} (${page.total})` }),
      pager,
      el("div", { className: "scroll" }, table),
    );
  });
  $("#orders").replaceChildren(...sections);
  if (focusedId && focusedId.startsWith("orders-")) {
    // a page turned with the keyboard: keep the focus on its buttons
    const again = document.getElementById(focusedId);
    const other = document.getElementById(
      focusedId.endsWith("-next") ? focusedId.replace(/-next$/, "-previous") : focusedId.replace(/-previous$/, "-next"),
    );
    if (again && !again.disabled) again.focus();
    else if (other && !other.disabled) other.focus();
  }
}

// -- sessions ------------------------------------------------------------------------------------

function sessionPhrase() {
  if (state.session === EVERY_SESSION || state.session === "") return "the default session";
  return `session ${state.session}`;
}

function describeChoice() {
  const scope = $("#session-scope");
  if (state.session === EVERY_SESSION) {
    scope.textContent = "Requests: every session's. Orders, scenarios and reset: the default session's.";
  } else if (state.session === "") {
    scope.textContent = "Requests, orders, scenarios and reset: the default session's (requests that name no session).";
  } else {
    scope.textContent = `Requests, orders, scenarios and reset: session ${state.session}'s.`;
  }
  $("#reset").textContent = state.session === EVERY_SESSION || state.session === "" ? "Reset the mock" : `Reset session ${state.session}`;
  if ($("#session").value !== state.session) $("#session").value = state.session;
}

// What the page shows follows the session chosen: reads begun before are not drawn.
function choose(session, message) {
  state.session = session;
  sessionStorage.setItem(SESSION_KEY, session);
  state.journalEpoch++;
  state.scenariosEpoch++;
  state.ordersEpoch++;
  state.journalKey = state.scenariosKey = state.ordersKey = "";
  state.cursors = {};
  state.ordersRead = 0;
  state.selected = null;
  $("#detail").hidden = true;
  describeChoice();
  say(message);
  pollJournal();
  pollSlow();
}

function renderSessionChoices(sessions) {
  const names = sessions.map((session) => session.name);
  const key = JSON.stringify(names);
  const chosen = state.session;
  if (chosen !== EVERY_SESSION && chosen !== "" && !names.includes(chosen)) {
    choose(EVERY_SESSION, `Session ${chosen} is gone (dropped or idle too long): showing every session's requests.`);
  }
  if (key === state.sessionNames) return;
  state.sessionNames = key;
  const select = $("#session");
  const options = [
    el("option", { value: EVERY_SESSION, text: "all sessions" }),
    el("option", { value: "", text: "default" }),
    ...names.map((name) => el("option", { value: name, text: name })),
  ];
  select.replaceChildren(...options);
  select.value = state.session;
}

async function dropSession(button) {
  const name = button.dataset.name;
  button.disabled = true;
  try {
    await api("DELETE", `/__mock/sessions/${encodeURIComponent(name)}`);
    if (state.session === name) choose(EVERY_SESSION, "");
    say(`Session ${name} dropped.`);
    state.sessionsKey = "";
    renderSessions(await api("GET", "/__mock/sessions"));
    $("#sessions-heading").focus();
  } catch (error) {
    button.disabled = false; // shown in the status line
  }
}

function renderSessions(answer) {
  renderSessionChoices(answer.sessions);
  const key = JSON.stringify(answer.sessions);
  if (key === state.sessionsKey) return;
  state.sessionsKey = key;
  const rows = answer.sessions.map((session) => {
    const button = el("button", {
      type: "button",
      "data-name": session.name,
      "aria-label": `Drop session ${session.name}`,
      text: "Drop",
    });
    button.addEventListener("click", () => dropSession(button));
    return el(
      "tr",
      { "data-name": session.name },
      el("th", { scope: "row", text: session.name }),
      el("td", { text: session.last_used.slice(11, 19) }),
      el("td", { className: "num", text: String(session.requests) }),
      el("td", { className: "num", text: String(session.orders_written) }),
      el("td", { className: "num", text: String(session.refunds_written) }),
      el("td", {}, button),
    );
  });
  const focused = document.activeElement;
  $("#sessions tbody").replaceChildren(...rows);
  if (focused && $("#sessions tbody").contains(focused)) focused.focus();
}

async function pollSlow() {
  try {
    renderSessions(await api("GET", "/__mock/sessions")); // first: a session gone is not read below
    const epoch = state.scenariosEpoch;
    const scenarios = await api("GET", "/__mock/scenarios", undefined, sessionHeaders());
    if (epoch === state.scenariosEpoch) renderScenarios(scenarios);
    if (Date.now() - state.ordersRead >= ORDERS_REFRESH_MS) {
      state.ordersRead = Date.now();
      await readOrders();
    }
  } catch (error) {
    // shown in the status line
  }
}

// -- start ---------------------------------------------------------------------------------------

async function reset() {
  const session = actingSession();
  try {
    state.journalEpoch++;
    state.scenariosEpoch++;
    state.ordersEpoch++;
    await api("POST", "/__mock/reset", undefined, sessionHeaders());
    state.journalEpoch++;
    state.scenariosEpoch++;
    state.ordersEpoch++;
    state.journalKey = state.scenariosKey = state.ordersKey = "";
    state.ordersRead = 0;
    say(
      session
        ? `Session ${session} is fresh again: its requests, refunds, scenarios and rate-limit buckets are gone.`
        : "The mock is back to start-up: journal empty, orders as loaded, scenarios as loaded.",
    );
    await Promise.all([pollJournal(), pollSlow()]);
  } catch (error) {
    // shown in the status line
  }
}

function start() {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    history.replaceState(null, "", location.pathname); // out of the address bar and history
  }
  state.token = sessionStorage.getItem(TOKEN_KEY);
  const remembered = sessionStorage.getItem(SESSION_KEY);
  if (remembered !== null) {
    // a reload keeps the choice; a name not listed yet stays chosen until the sessions are read
    state.session = remembered;
    if (remembered !== EVERY_SESSION && remembered !== "") {
      $("#session").append(el("option", { value: remembered, text: remembered }));
    }
  }
  describeChoice();
  $("#session").addEventListener("change", (event) => {
    const value = event.target.value;
    const shown = value === EVERY_SESSION ? "every session's requests; the default session's orders and scenarios" : value === "" ? "the default session" : `session ${value}`;
    choose(value, `Showing ${shown}.`);
  });
  $("#reset").addEventListener("click", reset);
  $("#detail-close").addEventListener("click", () => {
    const id = state.selected;
    $("#detail").hidden = true;
    state.selected = null;
    const origin = document.querySelector(`#journal button[data-id="${id}"]`);
    if (origin) origin.focus();
  });
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("#token").value;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $("#token-form").hidden = true;
    state.ordersRead = 0;
    say("Token set.");
    pollJournal();
    pollSlow();
  });
  pollJournal();
  pollSlow();
  setInterval(pollJournal, JOURNAL_POLL_MS);
  setInterval(pollSlow, SLOW_POLL_MS);
}

start();
