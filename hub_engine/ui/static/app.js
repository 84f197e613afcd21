// The hub's web interface: a hash-routed page per view (each in its own module), calling
// /api/v1 with the session token. The server enforces every role; the UI only hides.
import { api, can, errorText, h, show, state, t } from "./core.js";
import { alertsPage } from "./alerts.js";
import { configPage } from "./config.js";
import { cpPage, cpsPage } from "./cp.js";
import { dashboardPage } from "./dashboard.js";
import { emsPage } from "./ems.js";
import { historyPage } from "./history.js";
import { maintenancePage } from "./maintenance.js";
import { startLive, stopLive } from "./live.js";
import { membersPage } from "./members.js";
import { sessionPage, sessionsPage } from "./sessions.js";
import { systemPage } from "./system.js";
import { usersPage } from "./users.js";

function translate() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.getElementById("lang").textContent = state.lang === "fr" ? "EN" : "FR";
}

function chrome() {
  const signedIn = Boolean(state.token);
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("logout").hidden = !signedIn;
  document.getElementById("who").textContent = signedIn ? `${state.login} (${t(`role.${state.role}`)})` : "";
  document.querySelectorAll("[data-role]").forEach((el) => { el.hidden = !can(el.dataset.role); });
  const here = location.hash.split(/[/?]/)[1] || "";
  const alias = { cp: "cps", session: "sessions" };
  document.querySelectorAll("nav a").forEach((a) => {
    const mine = (a.getAttribute("href").split("/")[1] || "") === (alias[here] || here);
    if (mine) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  translate();
  if (signedIn) alertCount();
}

/** The number of alerts in force beside "Alerts" in the menu (critical ones in red). */
async function alertCount() {
  const badge = document.getElementById("alert-count");
  try {
    const active = await api("/alerts", { query: { active: "true" } });
    badge.textContent = active.length ? String(active.length) : "";
    badge.className = active.some((a) => a.severity === "critical") ? "count critical" : "count";
    badge.hidden = !active.length;
  } catch { badge.hidden = true; }
}

function signOut() {
  stopLive();
  if (state.token) fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${state.token}` } }).catch(() => {});
  sessionStorage.clear();
  Object.assign(state, { token: null, role: null, login: null, live: null });
  location.hash = "#/login";
}
state.signOut = signOut;

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
    } catch (err) { msg.textContent = err.status === 401 ? t("login.wrong") : errorText(err); }
  } },
  h("label", {}, t("login.login"), h("input", { name: "login", id: "login", autocomplete: "username", required: true })),
  h("label", {}, t("login.password"), h("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true })),
  h("button", { class: "primary", type: "submit", id: "signin" }, t("login.submit")), msg,
  h("p", { class: "muted" }, t("login.first")));
  show(gen, h("section", { class: "login card" }, h("h1", {}, t("login.title")), form));
}

const PAGES = {
  cps: (gen) => cpsPage(gen),
  cp: (gen, arg) => cpPage(gen, decodeURIComponent(arg)),
  sessions: (gen, arg) => (arg ? sessionPage(gen, arg) : sessionsPage(gen)),
  ems: (gen) => emsPage(gen),
  history: (gen) => historyPage(gen),
  alerts: (gen) => alertsPage(gen),
  maintenance: (gen) => maintenancePage(gen),
  system: (gen) => systemPage(gen),
  config: (gen) => configPage(gen),
  users: (gen) => usersPage(gen),
  members: (gen, arg) => membersPage(gen, arg),
  badges: (gen) => membersPage(gen),
};

async function route() {
  const [, page, arg] = location.hash.split("?")[0].split("/");
  const gen = ++state.gen;
  state.page = null; state.focusMain = true;
  chrome();
  if (!state.token) { if (page !== "login") { location.hash = "#/login"; return; } loginPage(gen); return; }
  try {
    if (page === "login") location.hash = "#/";
    else if (PAGES[page]) await PAGES[page](gen, arg);
    else await dashboardPage(gen);
  } catch (err) { show(state.gen, h("p", { class: "error", role: "alert", id: err.status === 403 ? "forbidden" : null }, errorText(err))); }
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
