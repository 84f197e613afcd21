// History over months and years: energy and sessions per local period and per site,
// board, group, charge point, member or badge (a bar chart and its table), the site's
// consumption beside its charging, and the Excel workbook of the selection.
import { api, download, errorText, fmtKwh, h, note, show, state, t, table } from "./core.js";

const SVG = "http://www.w3.org/2000/svg";
const s = (tag, attrs, text) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
};
const dayStart = (d) => (d ? new Date(`${d}T00:00:00`).toISOString() : "");
const dayAfter = (d) => { if (!d) return ""; const x = new Date(`${d}T00:00:00`); x.setDate(x.getDate() + 1); return x.toISOString(); };
const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/** Energy per period as bars (kWh), one bar per period, summed over the keys. */
export function bars(rows, label) {
  const totals = new Map();
  for (const r of rows) totals.set(r.period, (totals.get(r.period) || 0) + r.energy_wh);
  const points = [...totals].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (!points.length) return h("p", { class: "muted", id: "history-empty" }, t("history.none"));
  const W = 640, H = 220, L = 52, R = 8, T = 18, B = 34;
  const top = Math.max(1, ...points.map((p) => p[1])) * 1.1;
  const bw = (W - L - R) / points.length;
  const Y = (wh) => H - B - (wh / top) * (H - T - B);
  const svg = s("svg", { class: "chart", id: "history-chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  for (let i = 0; i <= 4; i++) {
    const wh = (top / 4) * i;
    svg.append(s("line", { x1: L, x2: W - R, y1: Y(wh), y2: Y(wh), class: "grid" }),
      s("text", { x: L - 6, y: Y(wh) + 4, "text-anchor": "end", class: "axis" }, (wh / 1000).toLocaleString(state.lang, { maximumFractionDigits: 0 })));
  }
  svg.append(s("text", { x: L - 6, y: 12, "text-anchor": "end", class: "axis" }, "kWh"));
  const every = Math.ceil(points.length / 8);
  points.forEach(([period, wh], i) => {
    const bar = s("rect", { x: L + i * bw + bw * 0.1, y: Y(wh), width: bw * 0.8, height: Math.max(0, H - B - Y(wh)), class: "bar" });
    bar.append(s("title", {}, `${period}: ${fmtKwh(wh)}`));
    svg.append(bar);
    if (i % every === 0) svg.append(s("text", { x: L + i * bw + bw / 2, y: H - 10, "text-anchor": "middle", class: "axis" }, period === "all" ? "" : period));
  });
  return h("figure", { class: "curve" }, svg, h("figcaption", { class: "muted" }, label));
}

export async function historyPage(gen) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const today = new Date();
  const yearAgo = new Date(today); yearAgo.setFullYear(today.getFullYear() - 1); yearAgo.setDate(yearAgo.getDate() + 1);
  const msg = note("history-result");
  const select = (name, values, current) => h("label", {}, t(`history.${name}`), h("select", { name, id: `h-${name}` },
    values.map((v) => h("option", { value: v, selected: v === current }, t(`history.${name}.${v}`)))));
  const form = h("form", { class: "inline", id: "history-filter", onsubmit: (e) => { e.preventDefault(); load(); } },
    h("label", {}, t("sessions.from"), h("input", { type: "date", name: "from", id: "h-from", value: params.get("from") || isoDay(yearAgo) })),
    h("label", {}, t("sessions.to"), h("input", { type: "date", name: "to", id: "h-to", value: params.get("to") || isoDay(today) })),
    select("period", ["day", "week", "month", "year", "all"], params.get("period") || "month"),
    select("by", ["site", "board", "group", "charge_point", "member", "badge"], params.get("by") || "site"),
    h("button", { type: "submit", class: "primary" }, t("filter")),
    h("button", { type: "button", id: "history-xlsx", onclick: () => download("/history/export", "history.xlsx", { ...query(), lang: state.lang })
      .catch((err) => { msg.className = "note error"; msg.textContent = errorText(err); }) }, t("history.xlsx")),
    h("button", { type: "button", id: "history-csv", onclick: () => download("/history/export", "energy.csv", { ...query(), lang: state.lang, format: "csv" })
      .catch((err) => { msg.className = "note error"; msg.textContent = errorText(err); }) }, t("history.csv")));
  const query = () => {
    const f = new FormData(form);
    return { since: dayStart(f.get("from")), until: dayAfter(f.get("to")), period: f.get("period"), by: f.get("by") };
  };
  const out = h("div", { id: "history-out" });
  const load = async () => {
    try {
      const q = query();
      const [rows, site] = await Promise.all([api("/history/energy", { query: q }), api("/history/site", { query: { ...q, by: "site" } })]);
      const total = rows.reduce((a, r) => a + r.energy_wh, 0);
      const sessions = rows.reduce((a, r) => a + r.sessions, 0);
      out.replaceChildren(
        h("p", { class: "totals", id: "history-totals" }, `${sessions} ${t("history.sessions")} · ${fmtKwh(total)}`),
        bars(rows, `${t("history.chart")} (kWh)`),
        table({ id: "history-table" }, ["history.periodcol", `history.by.${q.by}`, "history.sessions", "col.energy", "history.hours"],
          rows.map((r) => h("tr", {}, h("td", {}, r.period === "all" ? t("history.period.all") : r.period), h("td", {}, r.key || "—"),
            h("td", { class: "num" }, String(r.sessions)), h("td", { class: "num" }, fmtKwh(r.energy_wh)),
            h("td", { class: "num" }, (r.duration_s / 3600).toLocaleString(state.lang, { maximumFractionDigits: 1 }))))),
        h("h2", {}, t("history.site")),
        table({ id: "history-site" }, ["history.periodcol", "dash.site", "history.consumption", "history.charging", "history.pv"],
          site.map((r) => h("tr", {}, h("td", {}, r.period === "all" ? t("history.period.all") : r.period), h("td", {}, r.site),
            h("td", { class: "num" }, fmtKwh(r.consumption_wh)), h("td", { class: "num" }, fmtKwh(r.charging_wh)),
            h("td", { class: "num" }, r.pv_wh === null ? "—" : fmtKwh(r.pv_wh))))),
        h("p", { class: "muted" }, t("history.estimate")));
      msg.textContent = "";
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  };
  show(gen, h("h1", {}, t("history.title")), form, msg, out);
  await load();
}
