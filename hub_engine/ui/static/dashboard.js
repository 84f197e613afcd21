// The dashboard: per site the limit in force against the meter, power now, energy
// today and the connectors counted by state; per connector what it really does (a
// session the EMS holds at 0 A is "paused by the EMS", with the reason), its fault codes.
import { api, fmtA, fmtKw, fmtKwh, fmtTime, h, maxOf, num, show, state, t, table, tf } from "./core.js";
import { startLive } from "./live.js";

// The EMS's reasons (hub_engine/ems), in the UI's language; others are shown as sent.
const REASONS = {
  "fair share": "reason.fair", "car takes less": "reason.less", "probing": "reason.probing",
  "no session": "reason.nosession", "silent or refusing: reserved": "reason.silent",
  "limit below minimum": "reason.belowmin", "car not asking": "reason.notasking",
  "paused: minimum off time": "reason.minoff", "paused: not enough power for the minimum": "reason.nopower",
  "rising: waiting for confirmed headroom": "reason.rising", "fire alarm": "reason.fire",
  "departure plan": "reason.plan",
};
export const reasonText = (r) => (r ? (REASONS[r] ? t(REASONS[r]) : r) : "");

export function stateText(c) {
  if (c.state === "paused") return t("state.paused");
  if (c.state === "offline") return t("status.offline");
  return t(`status.${c.status || "offline"}`);
}

export function faultText(f) {
  if (!f) return "";
  const parts = [];
  if (f.error_code && f.error_code !== "NoError") parts.push(t(`fault.${f.error_code}`) === `fault.${f.error_code}` ? f.error_code : `${t(`fault.${f.error_code}`)} (${f.error_code})`);
  if (f.vendor_error_code) parts.push(`${t("fault.vendor")} ${f.vendor_error_code}`);
  if (f.info) parts.push(f.info);
  return parts.join(" · ");
}

// The grid signals in force (their external limits), in words: what they do and until when.
const SIGNALS = { "signal:zni": "signal.zni", "signal:tempo": "signal.tempo", "signal:ecowatt": "signal.ecowatt", "signal:offpeak": "signal.offpeak" };
function signalBanners(data) {
  const seen = new Map();
  for (const l of data.external_limits || []) if (SIGNALS[l.source] && !l.expired && !seen.has(l.source)) seen.set(l.source, l);
  return [...seen].map(([source, l]) => h("p", { class: "banner signal", role: "status", id: `signal-${source.split(":")[1]}` },
    tf(SIGNALS[source], { limit: fmtA(l.limit_a), until: new Date(l.expires_at).toLocaleTimeString(state.lang, { hour: "2-digit", minute: "2-digit" }) })));
}

// A solar car's state in words: on its share of the sun, or waiting/stopping and when.
function solarText(s) {
  const mode = t(`solar.${s.mode}`);
  if (s.stops_in_s !== null && s.stops_in_s !== undefined) return `${mode} · ${tf("solar.stopping", { s: Math.round(s.stops_in_s) })}`;
  if (s.on) return `${mode} · ${tf("solar.share", { power: fmtKw(s.cap_w) })}`;
  if (s.starts_in_s !== null && s.starts_in_s !== undefined) return `${mode} · ${tf("solar.starting", { s: Math.round(s.starts_in_s) })}`;
  return `${mode} · ${t("solar.waiting")}`;
}

function phaseRow(label, measured, charging, limit) {
  const pct = (x) => `${Math.max(0, Math.min(100, (100 * (x || 0)) / (limit || 1)))}%`;
  return h("div", { class: "phase" }, h("span", {}, label),
    h("div", { class: "bar", role: "img", "aria-label": `${label} ${fmtA(measured)} / ${fmtA(limit)}` },
      h("span", { style: `width:${pct(measured)}` }), h("span", { class: "ev", style: `width:${pct(charging)}` })),
    h("span", { class: "num" }, `${fmtA(measured)} / ${fmtA(limit)}`));
}

const tile = (id, label, value) => h("div", { class: "tile", id }, h("span", { class: "muted" }, label), h("strong", {}, value));

function siteCard(s, data) {
  const limits = (data.external_limits || []).filter((l) => l.target === s.node);
  const lowered = s.limit_a !== null && s.rating_a !== null && s.limit_a < s.rating_a - 0.05;
  const c = s.counts || {};
  return h("div", { class: "card site", id: `site-${s.id}` },
    h("h2", {}, `${t("dash.site")} ${s.name}`),
    h("div", { class: "tiles" },
      tile("power-now", t("dash.power"), fmtKw(s.power_w)),
      tile("charging-now", t("dash.chargingpower"), fmtKw(s.charging_w)),
      tile("energy-today", t("dash.today"), fmtKwh(s.energy_today_wh))),
    h("p", { class: "counts", id: `counts-${s.id}` },
      ["charging", "paused", "free", "faulted", "offline"].map((k) =>
        h("span", { class: `count c-${k}`, "data-count": k }, h("strong", {}, String(c[k] ?? 0)), ` ${t(`count.${k}`)}`))),
    s.meter_current_a ? null : h("p", { class: "muted" }, t("dash.nometer")),
    ["L1", "L2", "L3"].map((p, i) => phaseRow(p, s.meter_current_a?.[i], s.charging_measured_a?.[i], s.limit_a)),
    h("p", { class: lowered ? "limit-note warn" : "limit-note muted", id: `limit-${s.id}` },
      lowered ? tf("dash.lowered", { limit: fmtA(s.limit_a), rating: fmtA(s.rating_a) }) : tf("dash.limitis", { limit: fmtA(s.limit_a) }),
      s.limit_w ? ` · ${tf("dash.limitw", { limit: fmtKw(s.limit_w) })}` : "",
      limits.length ? ` · ${t("dash.by")} ${limits.map((l) => `${l.source} (${fmtA(l.limit_a)})`).join(", ")}` : ""),
    s.pv ? h("p", { class: "muted", id: `pv-${s.id}` }, tf("pv.line", { kwp: num(s.pv.kwp, 1),
      measured: fmtKw(s.pv.measured_w), forecast: fmtKw(s.pv.now_w), today: fmtKwh(s.pv.today_kwh === null ? null : s.pv.today_kwh * 1000) })) : null,
    // The site's own mode if it has one (badges and charge points may set theirs).
    s.solar ? h("p", { class: "muted", id: `solar-${s.id}` }, s.solar.mode === "off" ? t("members.solar") : `${t("members.solar")}: ${t(`solar.${s.solar.mode}`)}`,
      s.solar.surplus_w !== null ? ` · ${tf("solar.surplus_now", { power: fmtKw(s.solar.surplus_w) })}` : ` · ${t("solar.unknown")}`) : null,
    h("p", { class: "muted" }, h("span", { class: "swatch site" }), ` ${t("dash.meter")} `, h("span", { class: "swatch ev" }), ` ${t("dash.charging")} · `,
      h("span", { id: "sessions-active" }, String(data.sessions_active)), ` ${t("dash.sessions")}`));
}

export function renderDashboard(data, gen = state.gen) {
  const rows = data.connectors.map((c) => h("tr", { id: `conn-${c.id.replace("/", "-")}`, class: `row-${c.state}` },
    h("td", {}, h("a", { href: `#/cp/${encodeURIComponent(c.charge_point)}` }, c.id)),
    h("td", { class: `status s-${c.state === "paused" ? "paused" : c.online ? c.status : "offline"}` }, stateText(c),
      c.state === "paused" || (c.session && c.reason && c.reason !== "fair share")
        ? h("span", { class: "reason" }, reasonText(c.reason)) : null,
      c.solar ? h("span", { class: "reason solar" }, solarText(c.solar)) : null),
    h("td", { class: "num current" }, fmtA(maxOf(c.measured_a))),
    h("td", { class: "num limit" }, fmtA(c.limit_a)),
    h("td", { class: "num power" }, fmtKw(c.power_w)),
    h("td", { class: "session" }, c.session ? `${c.session.id_tag} · ${fmtTime(c.session.started_at)}` : "",
      c.session?.plan ? h("span", { class: "reason plan" }, tf("plan.line", { time: fmtTime(c.session.plan.departure), energy: fmtKwh(c.session.plan.energy_wh) })) : null),
    h("td", { class: "fault" }, faultText(c.fault))));
  show(gen, h("h1", {}, t("dash.title")),
    data.fire_alarm ? h("p", { class: "banner", role: "alert" }, t("dash.fire")) : null,
    signalBanners(data),
    h("div", { class: "cards", "aria-live": "polite" }, data.sites.map((s) => siteCard(s, data))),
    h("h2", {}, t("dash.connectors")),
    table({ id: "connectors" }, ["col.connector", "col.status", "col.current", "col.limit", "col.power", "col.session", "col.fault"], rows));
}

export async function dashboardPage(gen) {
  if (gen === state.gen) { state.page = "dashboard"; state.onLive = (d) => { if (state.page === "dashboard") renderDashboard(d); }; }
  startLive();
  renderDashboard(state.live || (await api("/live")), gen);
}
