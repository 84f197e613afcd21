// Maintenance: firmware files and update campaigns, configuration keys across charge points
// (docs/maintenance.md). Operators follow and compare; an admin uploads a file, starts a
// campaign, changes a key. Refreshed every 3 s while a campaign runs.
import { api, can, errorText, fmtTime, h, keep, note, show, state, t, table, tf } from "./core.js";

const fmtSize = (n) => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1048576).toFixed(1)} MB`);
const UNDER_WAY = ["sent", "Downloading", "Downloaded", "Installing"];

function uploadForm(gen, msg) {
  const form = h("form", { id: "fw-upload", class: "inline", onsubmit: async (e) => {
    e.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    msg.className = "note"; msg.textContent = tf("fw.uploading", { name: file.name });
    try {
      const r = await api("/firmware", { method: "POST", query: { name: file.name }, body: file, raw: true, type: "application/octet-stream" });
      msg.className = "note ok"; msg.textContent = tf("fw.uploaded", { name: r.name, id: r.id });
      keep(msg); await maintenancePage(gen);
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  } }, h("label", {}, t("fw.file"), h("input", { type: "file", name: "file", required: true })), h("button", { type: "submit" }, t("fw.upload")));
  return form;
}

function campaignForm(gen, files, msg) {
  const form = h("form", { id: "fw-campaign", class: "inline", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const how = f.get("how"), what = String(f.get("what") || "").trim();
    const body = { firmware_id: Number(f.get("firmware_id")), concurrency: Number(f.get("concurrency")),
      retries: Number(f.get("retries")), retry_interval_s: Number(f.get("retry_interval_s")) };
    body[how] = how === "charge_points" ? what.split(/[\s,;]+/).filter(Boolean) : what;
    if (f.get("retrieve_at")) body.retrieve_at = new Date(f.get("retrieve_at")).toISOString();
    try {
      const r = await api("/firmware/campaigns", { method: "POST", body });
      msg.className = "note ok"; msg.textContent = tf("fw.started", { id: r.id, count: r.targets.length });
      keep(msg); await maintenancePage(gen);
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  } },
  h("label", {}, t("fw.firmware"), h("select", { name: "firmware_id", required: true }, files.map((x) => h("option", { value: x.id }, `${x.name} (${fmtSize(x.size_bytes)})`)))),
  h("label", {}, t("fw.for"), h("select", { name: "how" }, ["charge_points", "model", "node"].map((k) => h("option", { value: k }, t(`fw.how.${k}`))))),
  h("label", {}, t("fw.which"), h("input", { name: "what", required: true, size: 30 })),
  h("label", {}, t("fw.retrieve"), h("input", { name: "retrieve_at", type: "datetime-local" })),
  h("label", {}, t("fw.concurrency"), h("input", { name: "concurrency", type: "number", min: 1, max: 100, value: 5 })),
  h("label", {}, t("fw.retries"), h("input", { name: "retries", type: "number", min: 0, max: 10, value: 2 })),
  h("label", {}, t("fw.interval"), h("input", { name: "retry_interval_s", type: "number", min: 10, max: 86400, value: 300 })),
  h("button", { type: "submit", disabled: !files.length }, t("fw.start")));
  return form;
}

function campaignView(c, files) {
  const fw = files.find((x) => x.id === c.firmware_id);
  const summary = Object.entries(c.summary).map(([k, n]) => `${t(`fw.st.${k}`)} ${n}`).join(" · ");
  return h("section", { id: `campaign-${c.id}`, class: "campaign" },
    h("h3", {}, tf("fw.campaign", { id: c.id, name: fw ? fw.name : c.firmware_id }), " ", h("span", { class: `badge ${c.state}` }, t(`fw.state.${c.state}`))),
    h("p", { class: "summary" }, summary, " — ", tf("fw.by", { who: c.created_by || "—", when: fmtTime(c.created_at) })),
    table({ class: "targets" }, ["col.cp", "col.status", "fw.tries", "fw.before", "fw.after", "fw.error"],
      c.targets.map((x) => h("tr", { id: `target-${c.id}-${x.charge_point_id}` }, h("td", {}, x.charge_point_id),
        h("td", { class: "status" }, t(`fw.st.${x.status}`)), h("td", { class: "num" }, String(x.attempts)),
        h("td", {}, x.firmware_before || "—"), h("td", {}, x.firmware_after || "—"), h("td", { class: "wrap" }, x.error || "")))));
}

// Configuration keys of many charge points: side by side (those that differ first), read
// again, one changed on all (admin), and the history of changes.
function configSection(gen) {
  const msg = note("cfg-result");
  const box = h("div", { id: "cfg-compare" });
  const which = () => {
    const f = new FormData(form);
    const how = f.get("how"), what = String(f.get("what") || "").trim();
    return { [how]: how === "charge_points" ? what.split(/[\s,;]+/).filter(Boolean) : what };
  };
  const compare = async () => {
    const w = which();
    const query = w.charge_points ? { charge_points: w.charge_points.join(",") } : w;
    const r = await api("/configuration/compare", { query });
    const keys = [...r.keys].sort((a, b) => (a.same === b.same ? a.key.localeCompare(b.key) : a.same ? 1 : -1));
    box.replaceChildren(table({ id: "cfg-keys" }, ["cp.key", ...r.charge_points.map(() => null)],
      keys.map((k) => h("tr", { class: k.same ? "" : "differs", id: `cfg-${k.key}` }, h("td", { class: "wrap" }, k.key),
        r.charge_points.map((cp) => h("td", { class: "wrap" }, k.values[cp] ?? "—"))))));
    box.querySelectorAll("thead th").forEach((th, i) => { if (i > 0) th.textContent = r.charge_points[i - 1]; });
  };
  const run = (fn) => async (e) => {
    e?.preventDefault();
    try { await fn(); } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  };
  const form = h("form", { id: "cfg-form", class: "inline", onsubmit: run(compare) },
    h("label", {}, t("fw.for"), h("select", { name: "how" }, ["model", "node", "charge_points"].map((k) => h("option", { value: k }, t(`fw.how.${k}`))))),
    h("label", {}, t("fw.which"), h("input", { name: "what", required: true, size: 24 })),
    h("button", { type: "submit" }, t("cfg.compare")),
    h("button", { type: "button", id: "cfg-read", onclick: run(async () => {
      const r = await api("/configuration/read", { method: "POST", body: which() });
      msg.className = "note ok"; msg.textContent = Object.entries(r).map(([cp, o]) => `${cp}: ${t(`outcome.${o}`)}`).join(" · ");
      await compare();
    }) }, t("cfg.read")));
  const change = h("form", { id: "cfg-change", class: "inline", onsubmit: run(async () => {
    const f = new FormData(change);
    const r = await api("/configuration/change", { method: "POST", body: { ...which(), key: f.get("key"), value: f.get("value") } });
    msg.className = "note ok"; msg.textContent = r.map((x) => `${x.charge_point_id}: ${x.result}`).join(" · ");
    await compare();
  }) }, h("label", {}, t("cp.key"), h("input", { name: "key", required: true, size: 24 })),
    h("label", {}, t("cp.value"), h("input", { name: "value", size: 16 })), h("button", { type: "submit" }, t("cfg.change")));
  return [h("h2", {}, t("cfg.title")), form, can("admin") ? change : null, msg, box];
}

export async function maintenancePage(gen) {
  const [files, campaigns] = await Promise.all([api("/firmware"), api("/firmware/campaigns")]);
  const msg = note("fw-result");
  show(gen, h("h1", {}, t("fw.title")), msg,
    h("h2", {}, t("fw.files")),
    files.length ? table({ id: "fw-files" }, ["fw.name", "fw.size", "fw.sha", "col.time", "fw.byw"], files.map((x) => h("tr", {},
      h("td", {}, x.name), h("td", { class: "num" }, fmtSize(x.size_bytes)), h("td", { class: "mono" }, x.sha256.slice(0, 12)),
      h("td", {}, fmtTime(x.uploaded_at)), h("td", {}, x.uploaded_by || "—")))) : h("p", { class: "muted" }, t("fw.nofile")),
    can("admin") ? uploadForm(gen, msg) : null,
    h("h2", {}, t("fw.campaigns")),
    can("admin") ? campaignForm(gen, files, msg) : null,
    campaigns.length ? campaigns.map((c) => campaignView(c, files)) : h("p", { class: "muted" }, t("fw.nocampaign")),
    configSection(gen));
  if (campaigns.some((c) => c.state === "running" || c.targets.some((x) => UNDER_WAY.includes(x.status)))) {
    setTimeout(() => { if (gen === state.gen) maintenancePage(gen).catch(() => {}); }, 3000);
  }
}
