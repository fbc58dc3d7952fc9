// The refund-mock dashboard: reads and drives the mock through its admin API only.
"use strict";

const JOURNAL_POLL_MS = 500; // new requests show within a second
const SLOW_POLL_MS = 2000; // scenarios; orders too when a request came in since
const ORDERS_REFRESH_MS = 10000; // orders at least this often (an order loaded through the admin API)
const JOURNAL_SHOWN = 200;
const TOKEN_KEY = "refund-mock-admin-token";

const state = {
  token: null,
  entries: new Map(),
  journalKey: "",
  selected: null,
  scenariosKey: "",
  sessionsKey: "",
  ordersKey: "",
  ordersRead: 0, // when the orders were last read (ms)
  // bumped by a reset (both) and a switch (scenarios): a read begun before is stale, not drawn
  journalEpoch: 0,
  scenariosEpoch: 0,
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

async function api(method, path, body) {
  const headers = {};
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
    const journal = await api("GET", `/__mock/requests?limit=${JOURNAL_SHOWN}&all_sessions=true`);
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
    const scenario = await api("PUT", `/__mock/scenarios/${encodeURIComponent(name)}/active`, { active: wanted });
    button.setAttribute("aria-pressed", String(scenario.active));
    button.textContent = scenario.active ? "On" : "Off";
    say(`Scenario ${name} switched ${scenario.active ? "on" : "off"}.`);
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

function renderOrders(answer) {
  const key = JSON.stringify(answer);
  if (key === state.ordersKey) return;
  state.ordersKey = key;
  const sections = Object.entries(answer.platforms).map(([platform, orders]) => {
    const title = PLATFORM_TITLES[platform] || platform;
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
    return el("div", {}, el("h3", { text: `${title} (${orders.length})` }), el("div", { className: "scroll" }, table));
  });
  $("#orders").replaceChildren(...sections);
}

// -- sessions ------------------------------------------------------------------------------------

async function dropSession(button) {
  const name = button.dataset.name;
  button.disabled = true;
  try {
    await api("DELETE", `/__mock/sessions/${encodeURIComponent(name)}`);
    say(`Session ${name} dropped.`);
    state.sessionsKey = "";
    renderSessions(await api("GET", "/__mock/sessions"));
    $("#sessions-heading").focus();
  } catch (error) {
    button.disabled = false; // shown in the status line
  }
}

function renderSessions(answer) {
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
    const epoch = state.scenariosEpoch;
    const scenarios = await api("GET", "/__mock/scenarios");
    if (epoch === state.scenariosEpoch) renderScenarios(scenarios);
    renderSessions(await api("GET", "/__mock/sessions"));
    if (Date.now() - state.ordersRead >= ORDERS_REFRESH_MS) {
      state.ordersRead = Date.now();
      renderOrders(await api("GET", "/__mock/orders"));
    }
  } catch (error) {
    // shown in the status line
  }
}

// -- start ---------------------------------------------------------------------------------------

async function reset() {
  try {
    state.journalEpoch++;
    state.scenariosEpoch++;
    await api("POST", "/__mock/reset");
    state.journalEpoch++;
    state.scenariosEpoch++;
    state.journalKey = state.scenariosKey = state.ordersKey = "";
    state.ordersRead = 0;
    say("The mock is back to start-up: journal empty, orders as loaded, scenarios as loaded.");
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
