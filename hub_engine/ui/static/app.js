// The hub's web interface: a hash-routed page per view, built with DOM calls (no HTML
// from data: charge points send strings), calling /api/v1 with the session token.
import { STRINGS } from "./i18n.js";

const API = "/api/v1";
const state = {
  token: sessionStorage.getItem("hub.token"),
  role: sessionStorage.getItem("hub.role"),
  login: sessionStorage.getItem("hub.login"),
  lang: localStorage.getItem("hub.lang") || (navigator.language.startsWith("fr") ? "fr" : "en"),
  live: null, liveAbort: null, page: null, gen: 0,
};
const RANK = { reader: 0, operator: 1, admin: 2 };

export const t = (key) => (STRINGS[state.lang] || STRINGS.en)[key] ?? STRINGS.en[key] ?? key;

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const fmtA = (a) => (a === null || a === undefined ? "—" : `${Number(a).toFixed(1)} A`);
const fmtKwh = (wh) => (wh === null || wh === undefined ? "—" : `${(wh / 1000).toFixed(2)} kWh`);
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(state.lang) : "—");
const maxOf = (xs) => (xs && xs.length ? Math.max(...xs) : null);
const statusText = (s, online) => t(`status.${online === false ? "offline" : s || "offline"}`);
const can = (role) => state.role && RANK[state.role] >= RANK[role];

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status; this.body = body;
  }
}

async function api(path, { method = "GET", body, query } = {}) {
  const url = new URL(API + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== "" && v !== undefined) url.searchParams.set(k, v);
  const resp = await fetch(url, {
    method, headers: { ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}),
                       ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (resp.status === 401 && path !== "/auth/login") { signOut(); throw new ApiError(401, null); }
  const data = resp.status === 204 ? null : await resp.json().catch(() => null);
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

function translate() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.getElementById("lang").textContent = state.lang === "fr" ? "EN" : "FR";
}

function chrome() {
  const signedIn = Boolean(state.token);
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("logout").hidden = !signedIn;
  document.getElementById("who").textContent = signedIn ? `${state.login} (${state.role})` : "";
  document.querySelectorAll("[data-role]").forEach((el) => { el.hidden = !can(el.dataset.role); });
  const here = location.hash.split("/")[1] || "";
  document.querySelectorAll("nav a").forEach((a) => {
    a.toggleAttribute("aria-current", (a.getAttribute("href").split("/")[1] || "") === here);
    if (a.hasAttribute("aria-current")) a.setAttribute("aria-current", "page");
  });
  translate();
}

function signOut() {
  stopLive();
  if (state.token) fetch(API + "/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${state.token}` } }).catch(() => {});
  sessionStorage.clear();
  Object.assign(state, { token: null, role: null, login: null });
  location.hash = "#/login";
}

// -- live data: server-sent events read through fetch (to send the token), else polling.
function startLive() {
  if (state.liveAbort) return;
  const ctrl = new AbortController();
  state.liveAbort = ctrl;
  (async () => {
    while (!ctrl.signal.aborted) {
      try {
        const resp = await fetch(API + "/live/stream", { headers: { Authorization: `Bearer ${state.token}` }, signal: ctrl.signal });
        if (!resp.ok) throw new Error(`stream ${resp.status}`);
        const reader = resp.body.getReader();
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const chunk = buf.slice(0, cut); buf = buf.slice(cut + 2);
            const data = chunk.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("");
            if (data) onLive(JSON.parse(data));
          }
        }
      } catch (err) {
        if (ctrl.signal.aborted) return;
        try { onLive(await api("/live")); } catch { /* signed out or down: retry */ }
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  })();
}

function stopLive() { state.liveAbort?.abort(); state.liveAbort = null; }

function onLive(data) {
  state.live = data;
  if (state.page === "dashboard") renderDashboard(data);
}

// -- pages ---------------------------------------------------------------------------
const main = () => document.getElementById("main");

// A page renders only if it is still the one asked for (pages load data first).
function show(gen, ...nodes) {
  if (gen !== state.gen) return;
  main().replaceChildren(...nodes.flat(2).filter((n) => n !== null && n !== undefined && n !== false));
  main().focus({ preventScroll: true });
}

function failed(err) {
  if (err.status === 403) return h("p", { class: "error", role: "alert", id: "forbidden" }, t("forbidden"));
  return h("p", { class: "error", role: "alert" }, `${t("error")}: ${err.message}`);
}

function loginPage(gen) {
  const msg = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "stack", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    try {
      const r = await api("/auth/login", { method: "POST", body: { login: f.get("login"), password: f.get("password") } });
      Object.assign(state, { token: r.token, role: r.role, login: r.login });
      sessionStorage.setItem("hub.token", r.token); sessionStorage.setItem("hub.role", r.role);
      sessionStorage.setItem("hub.login", r.login);
      location.hash = "#/";
    } catch (err) { msg.textContent = err.message; }
  } },
  h("label", {}, t("login.login"), h("input", { name: "login", id: "login", autocomplete: "username", required: true })),
  h("label", {}, t("login.password"), h("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true })),
  h("button", { class: "primary", type: "submit", id: "signin" }, t("login.submit")), msg,
  h("p", { class: "muted" }, t("login.first")));
  show(gen, h("section", { class: "login card" }, h("h1", {}, t("login.title")), form));
}

function phaseRow(label, measured, charging, limit) {
  const pct = (x) => `${Math.max(0, Math.min(100, (100 * (x || 0)) / (limit || 1)))}%`;
  return h("div", { class: "phase" }, h("span", {}, label),
    h("div", { class: "bar", role: "img", "aria-label": `${label} ${fmtA(measured)} / ${fmtA(limit)}` },
      h("span", { style: `width:${pct(measured)}` }), h("span", { class: "ev", style: `width:${pct(charging)}` })),
    h("span", { class: "num" }, `${fmtA(measured)} / ${fmtA(limit)}`));
}

function renderDashboard(data, gen = state.gen) {
  const cards = data.sites.map((s) => h("div", { class: "card", id: `site-${s.id}` },
    h("h2", {}, `${t("dash.site")} ${s.name}`),
    s.meter_current_a ? null : h("p", { class: "muted" }, t("dash.nometer")),
    ["L1", "L2", "L3"].map((p, i) => phaseRow(p, s.meter_current_a?.[i], s.charging_a?.[i], s.limit_a)),
    h("p", { class: "muted" }, `${t("dash.meter")} / ${t("dash.limit")} (${t("dash.charging")}) · `,
      h("span", { id: "sessions-active" }, String(data.sessions_active)), ` ${t("dash.sessions")}`)));
  const rows = data.connectors.map((c) => h("tr", { id: `conn-${c.id.replace("/", "-")}` },
    h("td", {}, h("a", { href: `#/cp/${encodeURIComponent(c.charge_point)}` }, c.id)),
    h("td", { class: `status s-${c.online ? c.status : "offline"}` }, statusText(c.status, c.online)),
    h("td", { class: "num current" }, fmtA(maxOf(c.measured_a))),
    h("td", { class: "num limit" }, fmtA(c.limit_a)),
    h("td", { class: "session hide-sm" }, c.session ? `${c.session.id_tag} · ${fmtTime(c.session.started_at)}` : "")));
  const table = h("div", { class: "table-wrap" }, h("table", { id: "connectors" },
    h("thead", {}, h("tr", {}, ["col.connector", "col.status", "col.current", "col.limit", "col.session"]
      .map((k, i) => h("th", { scope: "col", class: i === 4 ? "hide-sm" : null }, t(k))))),
    h("tbody", {}, rows)));
  show(gen, h("h1", {}, t("dash.title")),
    data.fire_alarm ? h("p", { class: "banner", role: "alert" }, t("dash.fire")) : null,
    h("div", { class: "cards", "aria-live": "polite" }, cards),
    h("h2", {}, t("dash.connectors")), table);
}

async function dashboardPage(gen) {
  if (gen === state.gen) state.page = "dashboard";
  startLive();
  renderDashboard(state.live || (await api("/live")), gen);
}

function chart(samples) {
  const pts = samples.filter((s) => s.measurand.startsWith("Current.Import") || s.measurand === "Power.Active.Import");
  if (!pts.length) return h("p", { class: "muted" }, "—");
  const measurand = pts.some((p) => p.measurand.startsWith("Current.Import")) ? "Current.Import" : "Power.Active.Import";
  const use = pts.filter((p) => p.measurand === measurand && (!p.phase || p.phase === "L1"));
  const xs = use.map((p) => Date.parse(p.ts)); const ys = use.map((p) => p.value);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1]; const y1 = Math.max(...ys, 1);
  const W = 600, H = 200;
  const path = use.map((p, i) => `${i ? "L" : "M"}${((xs[i] - x0) / Math.max(1, x1 - x0)) * (W - 40) + 30},${H - 20 - (ys[i] / y1) * (H - 40)}`).join(" ");
  const unit = use[0]?.unit || "";
  const ns = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": `${measurand} (${unit})` });
  svg.append(el("path", { d: path, fill: "none", stroke: "#0b6bcb", "stroke-width": 2 }),
    el("text", { x: 4, y: 14, "font-size": 12 }, `${y1.toFixed(1)} ${unit}`),
    el("text", { x: 4, y: H - 6, "font-size": 12 }, "0"));
  return svg;
}

async function cpPage(gen, cpId) {
  const [cp, log] = await Promise.all([api(`/charge-points/${encodeURIComponent(cpId)}`),
    api(`/charge-points/${encodeURIComponent(cpId)}/log`, { query: { limit: 30 } })]);
  const note = h("p", { role: "status", id: "command-result" });
  const live = (state.live?.connectors || []).filter((c) => c.charge_point === cpId);
  const send = async (name, body) => {
    try {
      const r = await api(`/charge-points/${encodeURIComponent(cpId)}/commands/${name}`, { method: "POST", body, query: { wait_s: 10 } });
      note.textContent = `${t("cp.sent")}: ${name} → ${r.result?.outcome || r.state}`;
    } catch (err) { note.textContent = `${t("error")}: ${err.message}`; }
  };
  const conns = h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {}, cp.connectors.map((c) => {
    const l = live.find((x) => x.connector === c.connector_id);
    return h("tr", {}, h("td", {}, `#${c.connector_id}`),
      h("td", { class: `status s-${c.status}` }, statusText(c.status, cp.online)),
      h("td", {}, l?.session ? `${l.session.id_tag} (${l.session.id})` : ""),
      h("td", {}, can("operator") && l?.session ? h("button", { class: "danger", id: `stop-${c.connector_id}`,
        onclick: () => send("remote_stop", { transaction_id: l.session.id }) }, t("cp.stop")) : null,
      can("operator") ? h("button", { onclick: () => send("unlock_connector", { connector_id: c.connector_id }) }, t("cp.unlock")) : null));
  }))));
  const sessions = await api("/sessions", { query: { charge_point: cpId, limit: 1 } });
  const curve = sessions.length ? chart(await api(`/sessions/${sessions[0].id}/meter-values`)) : null;
  show(gen, h("h1", {}, `${t("cp.title")} ${cp.id}`),
    h("dl", {}, h("dt", {}, t("cp.vendor")), h("dd", {}, cp.vendor || "—"), h("dt", {}, t("cp.model")), h("dd", {}, cp.model || "—"),
      h("dt", {}, t("cp.firmware")), h("dd", {}, cp.firmware || "—"), h("dt", {}, t("cp.online")), h("dd", {}, t(cp.online ? "yes" : "no")),
      h("dt", {}, t("cp.failsafe")), h("dd", { id: "failsafe" }, cp.failsafe || "—"), h("dt", {}, t("cp.lastseen")), h("dd", {}, fmtTime(cp.last_seen))),
    conns, can("operator") ? h("p", {}, h("button", { onclick: () => send("reset", { type: "Soft" }) }, t("cp.reset"))) : null, note,
    h("h2", {}, t("cp.curve")), curve,
    h("h2", {}, t("cp.config")), h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {},
      Object.entries(cp.configuration).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v))))))),
    h("h2", {}, t("cp.log")), h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {},
      log.map((e) => h("tr", {}, h("td", {}, fmtTime(e.ts)), h("td", {}, e.direction), h("td", { style: "white-space:normal" }, e.message)))))));
}

async function sessionsPage(gen) {
  const form = h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); load(); } },
    h("label", {}, t("col.connector"), h("input", { name: "charge_point", size: 10 })),
    h("label", {}, h("span", {}, t("sessions.active")), h("input", { name: "active", type: "checkbox" })),
    h("button", { type: "submit" }, t("filter")));
  const body = h("tbody");
  const load = async () => {
    const f = new FormData(form);
    const rows = await api("/sessions", { query: { charge_point: f.get("charge_point") || "", ...(f.get("active") ? { active: "true" } : {}) } });
    body.replaceChildren(...rows.map((s) => h("tr", {}, h("td", {}, h("a", { href: `#/sessions/${s.id}` }, String(s.id))),
      h("td", {}, `${s.charge_point}/${s.connector}`), h("td", {}, s.id_tag), h("td", {}, fmtTime(s.started_at)),
      h("td", {}, fmtTime(s.stopped_at)), h("td", { class: "num" }, fmtKwh(s.energy_wh)))));
  };
  show(gen, h("h1", {}, t("sessions.title")), form, h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["col.id", "col.connector", "col.badge", "col.started", "col.stopped", "col.energy"].map((k) => h("th", { scope: "col" }, t(k))))), body)));
  await load();
}

async function sessionPage(gen, id) {
  const [s, samples] = await Promise.all([api(`/sessions/${id}`), api(`/sessions/${id}/meter-values`)]);
  show(gen, h("h1", {}, `${t("session.title")} ${s.id}`),
    h("dl", {}, h("dt", {}, t("col.connector")), h("dd", {}, `${s.charge_point}/${s.connector}`), h("dt", {}, t("col.badge")), h("dd", {}, s.id_tag),
      h("dt", {}, t("col.started")), h("dd", {}, fmtTime(s.started_at)), h("dt", {}, t("col.stopped")), h("dd", {}, fmtTime(s.stopped_at)),
      h("dt", {}, t("col.energy")), h("dd", {}, fmtKwh(s.energy_wh))),
    h("h2", {}, t("cp.curve")), chart(samples));
}

async function emsPage(gen) {
  const [tree, limits] = await Promise.all([api("/ems/tree"), api("/ems/limits")]);
  const depth = {}; tree.forEach((n) => { depth[n.id] = n.parent ? depth[n.parent] + 1 : 0; });
  const rows = tree.map((n) => h("tr", { id: `node-${n.id}` },
    h("td", { style: `padding-left:${0.6 + depth[n.id] * 1.2}rem` }, n.name),
    h("td", { class: "num" }, fmtA(n.limit_a)), h("td", { class: "num" }, fmtA(n.sum_max_a)),
    h("td", { class: "num capacity" }, fmtA(n.capacity_a ? Math.min(...n.capacity_a) : null)),
    h("td", { class: "num" }, fmtA(n.fallback_sum_a))));
  const targets = [...tree.map((n) => n.id), ...(state.live?.connectors || []).map((c) => c.id)];
  const msg = h("p", { role: "status", id: "limit-result" });
  const form = h("form", { class: "inline", id: "limit-form", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const expires = new Date(Date.now() + Number(f.get("minutes")) * 60000).toISOString();
    try {
      await api("/ems/limits", { method: "PUT", body: { target: f.get("target"), limit_a: Number(f.get("limit_a")), expires_at: expires } });
      msg.textContent = "✓"; emsPage(state.gen);
    } catch (err) { msg.textContent = `${t("error")}: ${err.message}`; }
  } },
    h("label", {}, t("col.target"), h("select", { name: "target", id: "limit-target" }, targets.map((x) => h("option", { value: x }, x)))),
    h("label", {}, t("ems.limit_a"), h("input", { name: "limit_a", id: "limit-a", type: "number", min: 0, step: 0.1, required: true })),
    h("label", {}, t("ems.minutes"), h("input", { name: "minutes", type: "number", min: 1, max: 10080, value: 60, required: true })),
    h("button", { class: "primary", type: "submit", id: "limit-apply" }, t("ems.put")));
  show(gen, h("h1", {}, t("ems.title")), h("h2", {}, t("ems.tree")),
    h("div", { class: "table-wrap" }, h("table", { class: "tree" }, h("thead", {}, h("tr", {},
      ["col.name", "col.rating", "col.summax", "col.capacity", "col.fallbacksum"].map((k) => h("th", { scope: "col" }, t(k))))), h("tbody", {}, rows))),
    h("h2", {}, t("ems.limits")), limits.length ? null : h("p", { class: "muted" }, "—"),
    h("div", { class: "table-wrap" }, h("table", { id: "limits" }, h("tbody", {}, limits.map((l) => h("tr", {},
      h("td", {}, l.target), h("td", {}, l.source), h("td", { class: "num" }, fmtA(l.limit_a)), h("td", {}, fmtTime(l.expires_at)), h("td", {}, l.on_expiry),
      h("td", {}, can("operator") ? h("button", { onclick: async () => { await api(`/ems/limits/${encodeURIComponent(l.target)}`, { method: "DELETE", query: { source: l.source } }); emsPage(state.gen); } }, t("ems.remove")) : null)))))),
    can("operator") ? [h("h2", {}, t("ems.add")), form, msg] : null);
}

async function configPage(gen) {
  const cfg = await api("/config");
  const area = h("textarea", { id: "config-text", "aria-label": t("config.title"), spellcheck: "false" });
  area.value = cfg.text;
  const msg = h("p", { role: "status", id: "config-result" });
  const hist = await api("/config/history");
  show(gen, h("h1", {}, t("config.title")), h("p", { class: "muted" }, `${cfg.source} → ${cfg.saves_to}`), area,
    h("p", {}, h("button", { class: "primary", id: "config-save", onclick: async () => {
      try { await api("/config", { method: "PUT", body: { text: area.value } }); msg.textContent = t("config.saved"); }
      catch (err) { msg.textContent = `${t("error")}: ${err.message}`; }
    } }, t("config.save"))), msg,
    h("h2", {}, t("config.history")), h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {}, hist.map((v) => h("tr", {},
      h("td", {}, String(v.version)), h("td", {}, fmtTime(v.saved_at)), h("td", {}, v.author),
      h("td", {}, h("button", { onclick: () => { area.value = v.text; } }, t("config.load")))))))));
}

async function usersPage(gen) {
  const [users, tokens] = await Promise.all([api("/users"), api("/tokens")]);
  const msg = h("p", { role: "status" });
  const userForm = h("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault(); const f = new FormData(userForm);
    try { await api("/users", { method: "POST", body: { login: f.get("login"), password: f.get("password"), role: f.get("role"), name: "" } }); usersPage(state.gen); }
    catch (err) { msg.textContent = `${t("error")}: ${err.message}`; }
  } }, h("label", {}, t("login.login"), h("input", { name: "login", required: true })),
    h("label", {}, t("login.password"), h("input", { name: "password", type: "password", minlength: 12, required: true })),
    h("label", {}, t("col.role"), h("select", { name: "role" }, ["reader", "operator", "admin"].map((r) => h("option", { value: r }, r)))),
    h("button", { type: "submit", class: "primary" }, t("users.add")));
  const tokenForm = h("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault(); const f = new FormData(tokenForm);
    try { const r = await api("/tokens", { method: "POST", body: { name: f.get("name"), role: f.get("role") } }); msg.textContent = `${t("users.tokenonce")} ${r.token}`; }
    catch (err) { msg.textContent = `${t("error")}: ${err.message}`; }
  } }, h("label", {}, t("col.name"), h("input", { name: "name", required: true })),
    h("label", {}, t("col.role"), h("select", { name: "role" }, ["reader", "operator", "admin"].map((r) => h("option", { value: r }, r)))),
    h("button", { type: "submit" }, t("users.addtoken")));
  show(gen, h("h1", {}, t("users.title")), h("div", { class: "table-wrap" }, h("table", { id: "users" }, h("tbody", {}, users.map((u) => h("tr", {},
    h("td", {}, u.login), h("td", {}, u.role), h("td", {}, u.disabled ? t("col.disabled") : ""),
    h("td", {}, h("button", { onclick: async () => { try { await api(`/users/${u.login}`, { method: "PATCH", body: { disabled: !u.disabled } }); usersPage(state.gen); } catch (err) { msg.textContent = err.message; } } },
      t(u.disabled ? "users.enable" : "users.disable")))))))), userForm, msg,
    h("h2", {}, t("users.tokens")), h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {}, tokens.filter((x) => !x.revoked).map((x) => h("tr", {},
      h("td", {}, x.name), h("td", {}, x.role), h("td", {}, fmtTime(x.created_at)),
      h("td", {}, h("button", { onclick: async () => { await api(`/tokens/${x.id}`, { method: "DELETE" }); usersPage(state.gen); } }, t("users.revoke")))))))), tokenForm);
}

async function badgesPage(gen) {
  const [members, badges, unknown] = await Promise.all([api("/members"), api("/badges"), api("/unknown-badges")]);
  const msg = h("p", { role: "status", id: "badges-result" });
  const names = members.map((m) => m.name);
  const enrol = (tag) => {
    const select = h("select", { "aria-label": `${t("badges.member")} ${tag}` }, names.map((n) => h("option", { value: n }, n)));
    return [select, h("button", { class: "primary", id: `enrol-${tag}`, onclick: async () => {
      try { await api(`/badges/${encodeURIComponent(tag)}`, { method: "PUT", body: { member: select.value } }); badgesPage(state.gen); }
      catch (err) { msg.textContent = `${t("error")}: ${err.message}`; }
    } }, t("badges.enrol"))];
  };
  const file = h("input", { type: "file", accept: ".csv,text/csv", id: "csv-file", "aria-label": t("badges.import") });
  const importCsv = async () => {
    const text = await file.files[0]?.text();
    if (!text) return;
    const resp = await fetch(API + "/access/import", { method: "POST", body: text, headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "text/csv" } });
    const data = await resp.json();
    msg.textContent = resp.ok ? `${t("badges.imported")}: ${data.badges}` :
      (data.error.detail.lines || []).map((l) => `line ${l.line}: ${l.message}`).join(" · ") || data.error.message;
    if (resp.ok) badgesPage(state.gen);
  };
  const exportCsv = async () => {
    const resp = await fetch(API + "/access/export", { headers: { Authorization: `Bearer ${state.token}` } });
    const url = URL.createObjectURL(await resp.blob());
    h("a", { href: url, download: "badges.csv" }).click();
  };
  show(gen, h("h1", {}, t("badges.title")),
    h("h2", {}, t("badges.unknown")), h("div", { class: "table-wrap" }, h("table", { id: "unknown" }, h("tbody", {}, unknown.map((u) => h("tr", {},
      h("td", {}, u.id_tag), h("td", {}, u.charge_point), h("td", {}, fmtTime(u.last_seen)), h("td", {}, String(u.attempts)),
      h("td", {}, can("admin") && names.length ? enrol(u.id_tag) : null)))))),
    h("h2", {}, t("badges.members")), h("div", { class: "table-wrap" }, h("table", { id: "members" }, h("tbody", {}, members.map((m) => h("tr", {},
      h("td", {}, m.name), h("td", {}, m.group), h("td", { class: "num" }, m.credit_wh === null ? "—" : fmtKwh(m.credit_wh)),
      h("td", {}, m.badges.join(", ")), h("td", {}, m.blocked ? t("col.disabled") : "")))))),
    h("h2", {}, t("badges.badges")), h("div", { class: "table-wrap" }, h("table", { id: "badges" }, h("tbody", {}, badges.map((b) => h("tr", {},
      h("td", {}, b.id_tag), h("td", {}, b.member || "—"), h("td", {}, b.status), h("td", {}, fmtTime(b.expiry))))))),
    h("p", {}, h("button", { onclick: exportCsv }, t("badges.export")), " ",
      can("admin") ? [file, h("button", { id: "csv-import", onclick: importCsv }, t("badges.import"))] : null), msg);
}

async function route() {
  const [, page, arg] = location.hash.split("/");
  const gen = ++state.gen;
  state.page = null;
  chrome();
  if (!state.token) { if (page !== "login") { location.hash = "#/login"; return; } loginPage(gen); return; }
  try {
    if (page === "login") location.hash = "#/";
    else if (page === "cp" && arg) await cpPage(gen, decodeURIComponent(arg));
    else if (page === "sessions" && arg) await sessionPage(gen, arg);
    else if (page === "sessions") await sessionsPage(gen);
    else if (page === "ems") await emsPage(gen);
    else if (page === "config") await configPage(gen);
    else if (page === "users") await usersPage(gen);
    else if (page === "badges") await badgesPage(gen);
    else await dashboardPage(gen);
  } catch (err) { show(state.gen, failed(err)); }
}

document.getElementById("lang").addEventListener("click", () => {
  state.lang = state.lang === "fr" ? "en" : "fr";
  localStorage.setItem("hub.lang", state.lang);
  route();
});
document.getElementById("logout").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
if (state.token) startLive();
route();
