// Sessions: by period, charge point, badge or member, paged, with their totals and a
// CSV export; one session's curve in kW over local time, with its energy.
import { act, api, can, download, errorText, fmtKw, fmtKwh, fmtTime, h, note, show, state, t, table, tf } from "./core.js";

const PAGE = 50;
const SVG = "http://www.w3.org/2000/svg";
const s = (tag, attrs, text) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
};

/** The power curve in kW: Power.Active.Import when the charge point sends it, else its
 * currents times the voltage (said so in the legend). */
export function powerSeries(samples, voltage = 230) {
  const power = samples.filter((p) => p.measurand === "Power.Active.Import");
  const byTs = new Map();
  const add = (ts, w) => byTs.set(ts, (byTs.get(ts) || 0) + w);
  if (power.length) {
    const whole = power.filter((p) => !p.phase);
    for (const p of whole.length ? whole : power) add(p.ts, p.unit === "kW" ? p.value * 1000 : p.value);
    return { estimated: false, points: [...byTs].map(([ts, w]) => [Date.parse(ts), w]).sort((a, b) => a[0] - b[0]) };
  }
  const cur = samples.filter((p) => p.measurand === "Current.Import");
  const phased = cur.filter((p) => p.phase && p.phase.startsWith("L"));
  for (const p of phased.length ? phased : cur) add(p.ts, p.value * voltage);
  return { estimated: true, points: [...byTs].map(([ts, w]) => [Date.parse(ts), w]).sort((a, b) => a[0] - b[0]) };
}

export function chart(samples) {
  const { estimated, points } = powerSeries(samples);
  if (!points.length) return h("p", { class: "muted", id: "no-curve" }, t("curve.none"));
  const W = 640, H = 240, L = 48, R = 16, T = 22, B = 30;
  const [x0, x1] = [points[0][0], Math.max(points[points.length - 1][0], points[0][0] + 60000)];
  const top = Math.max(1000, ...points.map((p) => p[1])) * 1.1;
  const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (w) => H - B - (w / top) * (H - T - B);
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("curve.label") });
  for (let i = 0; i <= 4; i++) {
    const w = (top / 4) * i;
    svg.append(s("line", { x1: L, x2: W - R, y1: Y(w), y2: Y(w), class: "grid" }),
      s("text", { x: L - 6, y: Y(w) + 4, "text-anchor": "end", class: "axis" }, (w / 1000).toLocaleString(state.lang, { maximumFractionDigits: 1 })));
  }
  const short = x1 - x0 < 600000;  // under 10 minutes: the seconds tell the ticks apart
  for (let i = 0; i <= 4; i++) {
    const x = x0 + ((x1 - x0) / 4) * i;
    svg.append(s("text", { x: X(x), y: H - 8, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle", class: "axis" },
      new Date(x).toLocaleTimeString(state.lang, { hour: "2-digit", minute: "2-digit", ...(short ? { second: "2-digit" } : {}) })));
  }
  svg.append(s("text", { x: L - 6, y: 12, "text-anchor": "end", class: "axis" }, "kW"),
    s("path", { d: points.map((p, i) => `${i ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" "), class: "line" }));
  return h("figure", { class: "curve" }, svg, h("figcaption", { class: "muted" },
    `${t("curve.power")} (kW) · ${t("curve.time")}${estimated ? ` · ${t("curve.estimated")}` : ""}`));
}

const dayStart = (d) => (d ? new Date(`${d}T00:00:00`).toISOString() : "");
const dayAfter = (d) => { if (!d) return ""; const x = new Date(`${d}T00:00:00`); x.setDate(x.getDate() + 1); return x.toISOString(); };

export async function sessionsPage(gen) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const msg = note("sessions-result");
  const field = (name, key, attrs = {}) => h("label", {}, t(key), h("input", { name, id: `f-${name}`, value: params.get(name) || "", ...attrs }));
  const form = h("form", { class: "inline", id: "sessions-filter", onsubmit: (e) => { e.preventDefault(); load(0); } },
    field("from", "sessions.from", { type: "date" }), field("to", "sessions.to", { type: "date" }),
    field("charge_point", "col.cp", { size: 10 }), field("id_tag", "col.badge", { size: 10 }),
    field("member", "badges.member", { size: 10 }),
    h("label", { class: "check" }, h("input", { name: "active", type: "checkbox", checked: params.get("active") === "true" }), t("sessions.active")),
    h("button", { type: "submit", class: "primary" }, t("filter")),
    h("button", { type: "button", id: "sessions-csv", onclick: () => download("/sessions/export", "sessions.csv", { ...query(), lang: state.lang }).catch((err) => { msg.textContent = errorText(err); }) }, t("sessions.csv")));
  const query = () => {
    const f = new FormData(form);
    return { charge_point: f.get("charge_point").trim(), id_tag: f.get("id_tag").trim(), member: f.get("member").trim(),
      since: dayStart(f.get("from")), until: dayAfter(f.get("to")), ...(f.get("active") ? { active: "true" } : {}) };
  };
  const body = h("tbody");
  const totals = h("p", { id: "sessions-totals", class: "totals" });
  const pager = h("p", { class: "pager" });
  const load = async (offset) => {
    try {
      const q = query();
      const [rows, sum] = await Promise.all([api("/sessions", { query: { ...q, limit: PAGE, offset } }), api("/sessions/summary", { query: q })]);
      const heads = ["col.id", "col.cp", "col.badge", "badges.member", "col.started", "col.stopped", "col.energy"].map(t);
      body.replaceChildren(...rows.map((x) => h("tr", {}, [h("a", { href: `#/sessions/${x.id}` }, String(x.id)), `${x.charge_point}/${x.connector}`, x.id_tag, x.member || "—",
        fmtTime(x.started_at), x.active ? t("sessions.running") : fmtTime(x.stopped_at), fmtKwh(x.energy_wh)]
        .map((v, i) => h("td", { class: i === 6 ? "num" : null, "data-label": heads[i] }, v)))));
      totals.textContent = tf("sessions.totals", { n: sum.sessions, energy: fmtKwh(sum.energy_wh), active: sum.active });
      const last = Math.min(offset + PAGE, sum.sessions);
      pager.replaceChildren(
        h("button", { type: "button", id: "page-prev", disabled: offset === 0, onclick: () => load(Math.max(0, offset - PAGE)) }, t("prev")), " ",
        h("span", { id: "page-info" }, tf("sessions.page", { first: sum.sessions ? offset + 1 : 0, last, n: sum.sessions })), " ",
        h("button", { type: "button", id: "page-next", disabled: last >= sum.sessions, onclick: () => load(offset + PAGE) }, t("next")));
      msg.textContent = "";
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  };
  const headKeys = ["col.id", "col.cp", "col.badge", "badges.member", "col.started", "col.stopped", "col.energy"];
  const tbl = table({ id: "sessions" }, headKeys, []);
  tbl.querySelector("tbody").replaceWith(body);
  show(gen, h("h1", {}, t("sessions.title")), form, msg, totals, tbl, pager);
  await load(0);
}

export async function sessionPage(gen, id) {
  const [x, samples] = await Promise.all([api(`/sessions/${id}`), api(`/sessions/${id}/meter-values`)]);
  const { points } = powerSeries(samples);
  const peak = points.length ? Math.max(...points.map((p) => p[1])) : null;
  show(gen, h("h1", {}, `${t("session.title")} ${x.id}`),
    h("dl", {}, h("dt", {}, t("col.cp")), h("dd", {}, h("a", { href: `#/cp/${encodeURIComponent(x.charge_point)}` }, `${x.charge_point}/${x.connector}`)),
      h("dt", {}, t("col.badge")), h("dd", {}, x.id_tag), h("dt", {}, t("badges.member")), h("dd", {}, x.member || "—"),
      h("dt", {}, t("col.started")), h("dd", {}, fmtTime(x.started_at)), h("dt", {}, t("col.stopped")), h("dd", {}, x.active ? t("sessions.running") : fmtTime(x.stopped_at)),
      h("dt", {}, t("col.energy")), h("dd", { id: "session-energy" }, fmtKwh(x.energy_wh)), h("dt", {}, t("session.peak")), h("dd", {}, fmtKw(peak)),
      x.stop_reason ? [h("dt", {}, t("session.reason")), h("dd", {}, x.stop_reason)] : null,
      x.closed_by_hub ? [h("dt", {}, t("session.closedbyhub")), h("dd", {}, x.closed_by_hub)] : null,
      x.plan ? [h("dt", {}, t("plan.title")), h("dd", { id: "session-plan" }, `${tf("plan.line", { time: fmtTime(x.plan.departure), energy: fmtKwh(x.plan.energy_wh) })} (${x.plan.source})`)] : null),
    x.active && can("operator") ? planForm(x, () => sessionPage(gen, id)) : null,
    h("h2", {}, t("cp.curve")), chart(samples));
}

// "YYYY-MM-DDTHH:MM" in the browser's time, as a datetime-local input shows it.
const localInput = (iso) => {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};

/** An operator gives a session under way its departure plan, or withdraws it. */
function planForm(x, reload) {
  const msg = note("plan-result");
  const form = h("form", { class: "grid-form", id: "plan-form", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const kwh = Number(String(f.get("need")).replace(",", "."));
    const body = { departure: f.get("departure") ? new Date(String(f.get("departure"))).toISOString() : "", energy_wh: Math.round(kwh * 1000) };
    if ((await act(msg, () => api(`/sessions/${x.id}/plan`, { method: "PUT", body }), t("plan.saved"))) !== undefined) reload();
  } },
  h("label", {}, t("plan.departure"), h("input", { type: "datetime-local", name: "departure", id: "plan-departure", required: true, value: x.plan ? localInput(x.plan.departure) : "" })),
  h("label", {}, t("members.need"), h("input", { name: "need", id: "plan-need", inputmode: "decimal", required: true, value: x.plan ? String(x.plan.energy_wh / 1000) : "" })),
  h("p", { class: "wide" }, h("button", { class: "primary", type: "submit", id: "plan-save" }, t("plan.save")),
    x.plan ? [" ", h("button", { type: "button", id: "plan-clear", onclick: async () => {
      if ((await act(msg, () => api(`/sessions/${x.id}/plan`, { method: "DELETE" }), t("plan.saved"))) !== undefined) reload();
    } }, t("plan.clear"))] : null), msg);
  return [h("h2", {}, t("plan.title")), h("p", { class: "muted" }, t("members.plan.help")), form];
}
