// What every page shares: the session state, the strings, DOM building (no HTML from
// data: charge points and badges send strings), the API client and the formats.
import { STRINGS } from "./i18n.js";

export const API = "/api/v1";
export const state = {
  token: sessionStorage.getItem("hub.token"),
  role: sessionStorage.getItem("hub.role"),
  login: sessionStorage.getItem("hub.login"),
  lang: localStorage.getItem("hub.lang") || (navigator.language.startsWith("fr") ? "fr" : "en"),
  live: null, liveAbort: null, page: null, gen: 0, onLive: null,
};
const RANK = { reader: 0, operator: 1, admin: 2 };

export const t = (key) => (STRINGS[state.lang] || STRINGS.en)[key] ?? STRINGS.en[key] ?? key;
/** A string with {name} placeholders filled in. */
export const tf = (key, vars) => t(key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
export const can = (role) => Boolean(state.role) && RANK[state.role] >= RANK[role];

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(3)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const num = (x, digits) => Number(x).toLocaleString(state.lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const fmtA = (a) => (a === null || a === undefined ? "—" : `${num(a, 1)} A`);
export const fmtKw = (w) => (w === null || w === undefined ? "—" : `${num(w / 1000, 1)} kW`);
export const fmtKwh = (wh) => (wh === null || wh === undefined ? "—" : `${num(wh / 1000, 2)} kWh`);
export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(state.lang) : "—");
export const fmtAge = (s) => (s === null || s === undefined ? "—" : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`);
export const maxOf = (xs) => (xs && xs.length ? Math.max(...xs) : null);

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status; this.body = body;
  }
}

/** An API error in words for the person: each refused field with its reason, never a
 * stack trace (the server sends none) nor an HTTP code alone. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return `${t("error")}: ${t("err.network")}`;
  if (err.status === 403) return t("forbidden");
  if (err.status === 429) return t("err.busy");
  if (err.status === 500) return `${t("error")}: ${t("err.server")}`;  // the others say why
  const detail = err.body?.error?.detail || {};
  const fields = [];
  const walk = (prefix, v) => {
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) fields.push(`${prefix}: ${v.join(", ")}`);
    else if (v && typeof v === "object") for (const [k, w] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, w);
  };
  for (const where of ["json", "query"]) if (detail[where]) walk("", detail[where]);
  return `${t("error")}: ${fields.length ? fields.join(" · ") : err.message}`;
}

export async function api(path, { method = "GET", body, query, raw, type } = {}) {
  const url = new URL(API + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== "" && v !== undefined && v !== null) url.searchParams.set(k, v);
  let resp;
  try {
    resp = await fetch(url, {
      method, headers: { "Accept-Language": state.lang, ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}),
                         ...(body !== undefined ? { "Content-Type": raw ? (type || "text/csv") : "application/json" } : {}) },
      body: body !== undefined ? (raw ? body : JSON.stringify(body)) : undefined,
    });
  } catch { throw new Error(t("err.network")); }
  if (resp.status === 401 && path !== "/auth/login") { state.signOut?.(); throw new ApiError(401, null); }
  const data = resp.status === 204 ? null : await resp.json().catch(() => null);
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

/** Saves what an API route answers as a file (CSV exports, the CA certificate). */
export async function download(path, filename, query) {
  const url = new URL(API + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== "" && v !== undefined && v !== null) url.searchParams.set(k, v);
  const resp = await fetch(url, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!resp.ok) throw new ApiError(resp.status, await resp.json().catch(() => null));
  const href = URL.createObjectURL(await resp.blob());
  const a = h("a", { href, download: filename });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

export const main = () => document.getElementById("main");

/** Renders a page only if it is still the one asked for (pages load data first). */
export function show(gen, ...nodes) {
  if (gen !== state.gen) return;
  main().replaceChildren(...nodes.flat(3).filter((n) => n !== null && n !== undefined && n !== false));
  // Screen readers start at the new page; the frame is hidden by the style sheet.
  if (state.focusMain) main().focus({ preventScroll: true });
  state.focusMain = false;
}

export function failed(err) {
  if (err.status === 403) return h("p", { class: "error", role: "alert", id: "forbidden" }, t("forbidden"));
  return h("p", { class: "error", role: "alert" }, errorText(err));
}

/** A table with a header row (keys of strings); on a phone each row becomes a card whose
 * cells carry their column name (data-label), so no column is ever cut. */
export function table(attrs, headKeys, rows) {
  const heads = headKeys.map((k) => (k ? t(k) : ""));
  for (const tr of rows) [...tr.children].forEach((td, i) => { if (heads[i]) td.dataset.label = heads[i]; });
  return h("div", { class: "table-wrap" }, h("table", { ...attrs, class: `cards-sm ${attrs.class || ""}`.trim() },
    h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows)));
}

/** A status line that says what an action did, in words. */
export const note = (id) => {
  const el = h("p", { role: "status", id, class: "note" });
  const kept = state.kept?.[id];
  if (kept) { el.className = kept.cls; el.textContent = kept.text; delete state.kept[id]; }
  return el;
};
/** Keeps what a status line says across the page's next rendering (it reads again). */
export function keep(msg) { (state.kept ||= {})[msg.id] = { text: msg.textContent, cls: msg.className }; }
export async function act(msg, fn, okText) {
  try { const r = await fn(); msg.className = "note ok"; msg.textContent = okText ? (typeof okText === "function" ? okText(r) : okText) : "✓"; return r; }
  catch (err) { msg.className = "note error"; msg.textContent = errorText(err); return undefined; }
}
