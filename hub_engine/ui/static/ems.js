// The EMS page: each board's load now against its limit in force, the sizing note, the
// external limits (an operator adds or removes one), the devices' health.
import { act, api, can, fmtA, fmtAge, fmtKw, h, note, show, state, t, table, tf } from "./core.js";

const worst = (xs) => (xs && xs.length ? Math.max(...xs) : null);
const least = (xs) => (xs && xs.length ? Math.min(...xs) : null);

function loadBar(n) {
  const limit = n.limit_in_force_a;
  const used = worst(n.meter_current_a);
  if (!limit || used === null) return null;  // the value cell already says "—"
  const pct = Math.max(0, Math.min(100, (100 * used) / limit));
  return h("div", { class: `bar small${pct > 95 ? " full" : ""}`, role: "img", "aria-label": `${fmtA(used)} / ${fmtA(limit)}` },
    h("span", { style: `width:${pct}%` }));
}

function devicesTable(devs) {
  const rows = Object.entries(devs.devices || {}).map(([id, d]) => {
    const values = Object.entries(d.values || {}).slice(0, 4).map(([k, v]) => `${k} ${Array.isArray(v) ? v.map((x) => Number(x).toFixed(1)).join("/") : typeof v === "number" ? v.toFixed(1) : v}`).join(" · ");
    return h("tr", { id: `device-${id}` }, h("td", {}, id), h("td", { class: d.online ? "ok" : "bad" }, t(d.online ? "dev.ok" : "dev.silent")),
      h("td", { class: "num" }, fmtAge(d.age_s)), h("td", { class: "wrap" }, values || "—"), h("td", { class: "wrap error-text" }, d.error || ""));
  });
  const inputs = Object.entries(devs.inputs || {}).map(([id, i]) => h("tr", {}, h("td", {}, id), h("td", {}, i.function),
    h("td", {}, i.known ? t(i.active ? "dev.active" : "dev.inactive") : t("dev.unknown"))));
  return [h("h2", {}, t("dev.title")), rows.length ? table({ id: "devices" }, ["col.name", "col.status", "dev.age", "dev.values", "dev.error"], rows) : h("p", { class: "muted" }, "—"),
    inputs.length ? table({ id: "inputs" }, ["col.name", "dev.function", "col.status"], inputs) : null];
}

export async function emsPage(gen) {
  const [tree, limits, devs] = await Promise.all([api("/ems/tree"), api("/ems/limits"), api("/devices").catch(() => ({}))]);
  const depth = {}; tree.forEach((n) => { depth[n.id] = n.parent ? depth[n.parent] + 1 : 0; });
  const parentOf = Object.fromEntries(tree.map((n) => [n.id, tree.find((p) => p.id === n.parent)]));
  const rows = tree.map((n) => {
    const parent = parentOf[n.id];
    const above = parent && n.limit_a && parent.limit_a && n.limit_a > parent.limit_a;
    const lowered = n.limit_in_force_a !== null && n.limit_a !== null && n.limit_in_force_a < n.limit_a - 0.05;
    return h("tr", { id: `node-${n.id}` },
      h("td", { class: "name", style: `--depth:${depth[n.id]}` }, n.name),
      h("td", { class: "num load" }, fmtA(worst(n.meter_current_a)), loadBar(n)),
      h("td", { class: "num" }, fmtA(worst(n.charging_a))),
      h("td", { class: `num limit${lowered ? " warn" : ""}` }, fmtA(n.limit_in_force_a), n.limit_in_force_w ? ` · ${fmtKw(n.limit_in_force_w)}` : ""),
      h("td", { class: "num" }, fmtA(n.limit_a), above ? h("span", { class: "warn", title: t("ems.aboveparent") }, " ⚠") : null),
      h("td", { class: "num capacity" }, fmtA(least(n.capacity_a))),
      h("td", { class: "num" }, fmtA(n.sum_max_a)), h("td", { class: "num" }, fmtA(n.fallback_sum_a)),
      h("td", {}, t(`meter.${n.meter_status || "none"}`)));
  });
  const targets = [...tree.map((n) => n.id), ...(state.live?.connectors || []).map((c) => c.id)];
  const msg = note("limit-result");
  const form = h("form", { class: "inline", id: "limit-form", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const expires = new Date(Date.now() + Number(f.get("minutes")) * 60000).toISOString();
    const r = await act(msg, () => api("/ems/limits", { method: "PUT", body: { target: f.get("target"), limit_a: Number(f.get("limit_a")), expires_at: expires } }),
      tf("ems.limitset", { target: f.get("target"), limit: fmtA(Number(f.get("limit_a"))) }));
    if (r) setTimeout(() => emsPage(state.gen), 800);
  } },
    h("label", {}, t("col.target"), h("select", { name: "target", id: "limit-target" }, targets.map((x) => h("option", { value: x }, x)))),
    h("label", {}, t("ems.limit_a"), h("input", { name: "limit_a", id: "limit-a", type: "number", min: 0, step: 0.1, required: true })),
    h("label", {}, t("ems.minutes"), h("input", { name: "minutes", type: "number", min: 1, max: 10080, value: 60, required: true })),
    h("button", { class: "primary", type: "submit", id: "limit-apply" }, t("ems.put")));
  const warnings = tree.filter((n) => parentOf[n.id] && n.limit_a && parentOf[n.id].limit_a && n.limit_a > parentOf[n.id].limit_a);
  show(gen, h("h1", {}, t("ems.title")),
    warnings.map((n) => h("p", { class: "warn", role: "status" }, tf("ems.abovewarn", { node: n.name, rating: fmtA(n.limit_a), parent: parentOf[n.id].name, prating: fmtA(parentOf[n.id].limit_a) }))),
    h("h2", {}, t("ems.tree")),
    table({ class: "tree", id: "tree" }, ["col.name", "ems.load", "ems.charging", "ems.inforce", "col.rating", "col.capacity", "col.summax", "col.fallbacksum", "ems.meter"], rows),
    h("p", { class: "muted" }, t("ems.treehelp")),
    h("h2", {}, t("ems.limits")),
    limits.length ? table({ id: "limits" }, ["col.target", "col.source", "col.limit", "col.expires", "col.onexpiry", null], limits.map((l) => h("tr", {},
      h("td", {}, l.target), h("td", {}, l.source), h("td", { class: "num" }, fmtA(l.limit_a)), h("td", {}, new Date(l.expires_at).toLocaleString(state.lang)), h("td", {}, t(`expiry.${l.on_expiry}`)),
      h("td", {}, can("operator") ? h("button", { onclick: () => act(msg, () => api(`/ems/limits/${encodeURIComponent(l.target)}`, { method: "DELETE", query: { source: l.source } }),
        tf("ems.limitremoved", { target: l.target })).then(() => emsPage(state.gen)) }, t("ems.remove")) : null)))) : h("p", { class: "muted", id: "limits" }, t("ems.nolimits")),
    can("operator") ? [h("h2", {}, t("ems.add")), form] : null, msg,
    devicesTable(devs));
}
