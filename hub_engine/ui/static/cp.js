// Charge points: the list (approve or refuse one that asked to join, the local CA for
// wss), one charge point's page with its connectors and every command an operator
// needs (start, stop, unlock, reserve, availability, reset, trigger), results in words.
import { act, api, can, download, errorText, fmtA, fmtAge, fmtKw, fmtTime, h, keep, maxOf, note, show, state, t, table, tf } from "./core.js";
import { faultText, reasonText, stateText } from "./dashboard.js";
import { chart } from "./sessions.js";

/** A command's result as a sentence: the hub's outcome and the charge point's own word. */
export function outcomeText(name, r) {
  if (r.state !== "done") return tf("cmd.pending", { name: t(`cmd.${name}`) });
  const res = r.result || {};
  const word = res.status ? ` (${res.status})` : "";
  return `${t(`cmd.${name}`)}: ${t(`outcome.${res.outcome}`)}${word}${res.error ? ` — ${res.error}` : ""}`;
}

export async function cpsPage(gen) {
  const cps = await api("/charge-points");
  // Read again every 5 s while shown: a charge point asking to join appears by itself.
  const msg = note("cps-result");
  const again = () => { keep(msg); return cpsPage(state.gen); };
  if (gen === state.gen) setTimeout(() => { if (gen === state.gen) again().catch(() => {}); }, 5000);
  const reg = (cp, value) => act(msg, () => api(`/charge-points/${encodeURIComponent(cp.id)}/registration`, { method: "PUT", body: { registration: value } }),
    tf(value === "accepted" ? "cps.approved" : "cps.refused", { id: cp.id })).then((r) => r && again());
  const pending = cps.filter((c) => c.registration === "pending");
  show(gen, h("h1", {}, t("cps.title")), msg,
    pending.length ? h("p", { class: "warn", id: "cps-pending" }, tf("cps.pendingcount", { n: pending.length })) : null,
    table({ id: "charge-points" }, ["col.cp", "cp.online", "cps.registration", "cp.model", "cp.firmware", "cp.lastseen", "cp.failsafe", null],
      cps.map((c) => h("tr", { id: `cp-${c.id}` },
        h("td", {}, h("a", { href: `#/cp/${encodeURIComponent(c.id)}` }, c.id)),
        h("td", { class: c.online ? "ok" : "bad" }, t(c.online ? "yes" : "no")),
        h("td", { class: "registration" }, t(`reg.${c.registration || "none"}`), c.configured ? "" : ` · ${t("cps.notconfigured")}`),
        h("td", {}, [c.vendor, c.model].filter(Boolean).join(" ") || "—"), h("td", {}, c.firmware || "—"),
        h("td", {}, fmtTime(c.last_seen)), h("td", {}, t(`failsafe.${c.failsafe || "unknown"}`)),
        h("td", {}, can("admin") && c.registration === "pending" ? [
          h("button", { class: "primary", id: `approve-${c.id}`, onclick: () => reg(c, "accepted") }, t("cps.approve")), " ",
          h("button", { class: "danger", id: `reject-${c.id}`, onclick: () => reg(c, "rejected") }, t("cps.reject"))]
          : can("admin") && c.registration === "rejected" ? h("button", { onclick: () => reg(c, "accepted") }, t("cps.approve")) : null)))),
    h("h2", {}, t("cps.ca")), h("p", { class: "muted" }, t("cps.cahelp")),
    h("p", {}, h("button", { id: "ca-download", onclick: () => download("/system/ca-certificate", "hub-ca.pem").then(
      () => { msg.className = "note ok"; msg.textContent = t("cps.cadone"); }, (err) => { msg.className = "note error"; msg.textContent = err.status === 404 ? t("cps.noca") : errorText(err); }) }, t("cps.cadownload"))));
}

function commandForms(cpId, connectors, send, msg) {
  const conn = (id) => h("select", { name: "connector_id", id }, connectors.map((c) => h("option", { value: c.connector_id }, `#${c.connector_id}`)));
  const start = h("form", { class: "inline", id: "remote-start", onsubmit: (e) => {
    e.preventDefault(); const f = new FormData(start);
    send("remote_start", { id_tag: String(f.get("id_tag")).trim(), connector_id: Number(f.get("connector_id")) });
  } }, h("label", {}, t("col.badge"), h("input", { name: "id_tag", id: "start-badge", required: true, maxlength: 20, size: 12 })),
    h("label", {}, t("col.connector"), conn("start-connector")), h("button", { type: "submit", class: "primary" }, t("cmd.remote_start")));
  // Reservations go through the hub (it holds them and enforces them itself).
  const said = (name, status, extra = "") => {
    const outcome = status === "Accepted" ? "accepted" : ["offline", "timed_out", "error"].includes(status) ? status : "rejected";
    msg.className = outcome === "accepted" ? "note ok" : "note error";
    msg.textContent = `${t(`cmd.${name}`)}: ${t(`outcome.${outcome}`)}${outcome === "accepted" || outcome === "rejected" ? ` (${status})` : ""}${extra}`;
  };
  const reserve = h("form", { class: "inline", id: "reserve", onsubmit: async (e) => {
    e.preventDefault(); const f = new FormData(reserve);
    msg.className = "note"; msg.textContent = tf("cmd.sending", { name: t("cmd.reserve_now") });
    try {
      const r = await api(`/charge-points/${encodeURIComponent(cpId)}/reservations`, { method: "POST",
        body: { connector_id: Number(f.get("connector_id")), id_tag: String(f.get("id_tag")).trim(), minutes: Number(f.get("minutes")) } });
      said("reserve_now", r.status, r.status === "Accepted" ? ` · ${tf("cmd.reservationid", { id: r.id })}` : "");
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  } }, h("label", {}, t("col.badge"), h("input", { name: "id_tag", required: true, maxlength: 20, size: 12 })),
    h("label", {}, t("col.connector"), conn("reserve-connector")),
    h("label", {}, t("ems.minutes"), h("input", { name: "minutes", type: "number", min: 1, max: 1440, value: 30, required: true })),
    h("button", { type: "submit" }, t("cmd.reserve_now")));
  const cancel = h("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api(`/reservations/${Number(new FormData(cancel).get("id"))}`, { method: "DELETE" });
      said("cancel_reservation", r.answer || r.status);
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  } }, h("label", {}, t("cmd.reservation"), h("input", { name: "id", type: "number", min: 0, required: true, size: 10 })), h("button", { type: "submit" }, t("cmd.cancel_reservation")));
  const avail = h("form", { class: "inline", onsubmit: (e) => {
    e.preventDefault(); const f = new FormData(avail);
    send("change_availability", { connector_id: Number(f.get("connector_id")), type: f.get("type") });
  } }, h("label", {}, t("col.connector"), h("select", { name: "connector_id" }, h("option", { value: 0 }, t("cmd.whole")), connectors.map((c) => h("option", { value: c.connector_id }, `#${c.connector_id}`)))),
    h("label", {}, t("cmd.availability"), h("select", { name: "type" }, ["Operative", "Inoperative"].map((v) => h("option", { value: v }, t(`avail.${v}`))))),
    h("button", { type: "submit" }, t("cmd.change_availability")));
  const trigger = h("form", { class: "inline", onsubmit: (e) => {
    e.preventDefault(); send("trigger_message", { requested_message: new FormData(trigger).get("message") });
  } }, h("label", {}, t("cmd.message"), h("select", { name: "message" }, ["StatusNotification", "MeterValues", "Heartbeat", "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification"].map((m) => h("option", { value: m }, m)))),
    h("button", { type: "submit" }, t("cmd.trigger_message")));
  return [start, reserve, cancel, avail, trigger,
    h("p", {}, h("button", { onclick: () => send("reset", { type: "Soft" }) }, t("cp.reset")), " ",
      h("button", { class: "danger", onclick: () => { if (confirm(t("cp.hardconfirm"))) send("reset", { type: "Hard" }); } }, t("cp.hardreset")))];
}

// Diagnostics (admin): ask for them, follow the upload, download the file (docs/maintenance.md).
function diagnostics(cpId) {
  const msg = note("diag-result");
  const box = h("div", { id: "cp-diagnostics" });
  const fmtSize = (n) => (n == null ? "—" : n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} kB`);
  const render = (list) => box.replaceChildren(list.length ? table({ id: "cp-diag" }, ["col.time", "diag.by", "col.status", "diag.file", "diag.size", null],
    list.map((d) => h("tr", { id: `diag-${d.id}` }, h("td", {}, fmtTime(d.requested_at || d.received_at)), h("td", {}, d.requested_by || "—"),
      h("td", { class: "status" }, t(`diag.${d.status}`)), h("td", { class: "wrap" }, d.file_name || "—"), h("td", { class: "num" }, fmtSize(d.size_bytes)),
      h("td", {}, d.status === "received" ? h("button", { onclick: () => download(`/diagnostics/${d.id}/file`, `${cpId}-${d.file_name || d.id}`)
        .catch((err) => { msg.className = "note error"; msg.textContent = errorText(err); }) }, t("diag.download")) : null))))
    : h("p", { class: "muted" }, t("diag.empty")));
  const load = () => api("/diagnostics", { query: { charge_point_id: cpId, limit: 20 } }).then((list) => { render(list); return list; });
  const follow = async (id, tries) => {  // until it arrives or fails, every 2 s for at most a minute
    const list = await load().catch(() => []);
    const d = list.find((x) => x.id === id);
    if (tries > 0 && d && !["received", "none", "failed", "UploadFailed"].includes(d.status)) setTimeout(() => follow(id, tries - 1), 2000);
  };
  const ask = h("button", { id: "diag-ask", onclick: async () => {
    msg.className = "note"; msg.textContent = t("diag.asking");
    try {
      const r = await api(`/charge-points/${encodeURIComponent(cpId)}/diagnostics`, { method: "POST", body: {} });
      msg.className = "note ok"; msg.textContent = tf("diag.asked", { status: t(`diag.${r.status}`) });
      follow(r.id, 30);
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  } }, t("diag.ask"));
  load().catch((err) => box.replaceChildren(h("p", { class: "muted" }, errorText(err))));
  return [h("h2", {}, t("diag.title")), h("p", {}, ask), msg, box];
}

// A key as GetConfiguration gives it: its value, and whether the charge point lets it change.
const keyValue = (v) => (v && typeof v === "object" && "value" in v
  ? `${v.value ?? "—"}${v.readonly ? ` (${t("cp.readonly")})` : ""}` : typeof v === "object" ? JSON.stringify(v) : String(v));

export async function cpPage(gen, cpId) {
  const [cp, log] = await Promise.all([api(`/charge-points/${encodeURIComponent(cpId)}`),
    api(`/charge-points/${encodeURIComponent(cpId)}/log`, { query: { limit: 30 } }).catch(() => [])]);
  const msg = note("command-result");
  const send = async (name, body, extra) => {
    msg.className = "note"; msg.textContent = tf("cmd.sending", { name: t(`cmd.${name}`) });
    try {
      const r = await api(`/charge-points/${encodeURIComponent(cpId)}/commands/${name}`, { method: "POST", body, query: { wait_s: 10 } });
      msg.className = r.result?.outcome === "accepted" ? "note ok" : "note error";
      msg.textContent = outcomeText(name, r) + (extra ? extra(r) : "");
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  };
  const live = (state.live?.connectors || []).filter((c) => c.charge_point === cpId);
  // Its connectors as configured (live) and as it reported them (a status per number).
  const ids = [...new Set([...live.map((x) => x.connector), ...cp.connectors.map((c) => c.connector_id).filter((n) => n > 0)])].sort((a, b) => a - b);
  const conns = ids.map((n) => cp.connectors.find((c) => c.connector_id === n) || { connector_id: n, status: null, error_code: null });
  const rows = conns.map((c) => {
    const l = live.find((x) => x.connector === c.connector_id) || {};
    return h("tr", { id: `cpconn-${c.connector_id}` }, h("td", {}, `#${c.connector_id}`),
      h("td", { class: "status" }, l.state ? stateText(l) : t(`status.${cp.online ? c.status : "offline"}`), l.state === "paused" ? h("span", { class: "reason" }, reasonText(l.reason)) : null),
      h("td", { class: "num" }, fmtA(maxOf(l.measured_a))), h("td", { class: "num" }, fmtKw(l.power_w)), h("td", { class: "num" }, fmtA(l.limit_a)),
      h("td", { class: "num" }, fmtA(l.offered_a)),
      h("td", {}, l.session ? `${l.session.id_tag} (${l.session.id})` : ""),
      h("td", { class: "fault" }, faultText(l.fault) || (c.error_code && c.error_code !== "NoError" ? c.error_code : "")),
      h("td", {}, can("operator") && l.session ? h("button", { class: "danger", id: `stop-${c.connector_id}`,
        onclick: () => send("remote_stop", { transaction_id: l.session.id }) }, t("cp.stop")) : null, " ",
      can("operator") ? h("button", { onclick: () => send("unlock_connector", { connector_id: c.connector_id }) }, t("cp.unlock")) : null));
  });
  const sessions = await api("/sessions", { query: { charge_point: cpId, limit: 1 } });
  const held = can("operator") ? (await api("/reservations", { query: { active: "true" } }).catch(() => [])).filter((r) => r.charge_point_id === cpId) : [];
  const curve = sessions.length ? chart(await api(`/sessions/${sessions[0].id}/meter-values`)) : h("p", { class: "muted" }, "—");
  const age = cp.last_seen ? (Date.now() - Date.parse(cp.last_seen)) / 1000 : null;
  // A charge point relayed to a CPO (docs/cpo.md): its link, and what it still owes.
  const link = (await api("/cpo").catch(() => [])).find((x) => x.charge_point_id === cpId);
  const linkText = link && (link.online ? tf("cpo.online", link) : !link.linked ? t("cpo.idle")
    : link.last_error ? tf("cpo.down", { why: link.last_error, queued: link.queued }) : tf("cpo.connecting", link));
  show(gen, h("h1", {}, `${t("cp.title")} ${cp.id}`),
    h("dl", {}, h("dt", {}, t("cp.vendor")), h("dd", {}, cp.vendor || "—"), h("dt", {}, t("cp.model")), h("dd", {}, cp.model || "—"),
      h("dt", {}, t("cp.firmware")), h("dd", {}, cp.firmware || "—"), h("dt", {}, t("cp.online")), h("dd", { id: "cp-online" }, t(cp.online ? "yes" : "no")),
      h("dt", {}, t("cps.registration")), h("dd", {}, t(`reg.${cp.registration || "none"}`)),
      h("dt", {}, t("cp.failsafe")), h("dd", { id: "failsafe" }, t(`failsafe.${cp.failsafe || "unknown"}`)),
      h("dt", {}, t("cp.lastseen")), h("dd", {}, `${fmtTime(cp.last_seen)} (${fmtAge(age)})`),
      link ? [h("dt", {}, t("cp.cpo")), h("dd", { id: "cp-cpo" }, linkText)] : null),
    table({ id: "cp-connectors" }, ["col.connector", "col.status", "col.current", "col.power", "col.limit", "cp.offered", "col.session", "col.fault", null], rows),
    held.length ? h("ul", { id: "cp-reservations" }, held.map((r) => h("li", {}, tf("cp.held", {
      id: r.id, connector: r.connector_id ? `#${r.connector_id}` : t("cp.anyconn"), badge: r.id_tag, until: fmtTime(r.expires_at) })))) : null,
    msg, can("operator") ? [h("h2", {}, t("cp.commands")), commandForms(cpId, conns, send, msg)] : null,
    can("admin") ? diagnostics(cpId) : null,
    h("h2", {}, t("cp.curve")), curve,
    h("details", {}, h("summary", {}, t("cp.config")), table({ id: "cp-keys" }, ["cp.key", "cp.value"],
      Object.entries(cp.configuration).map(([k, v]) => h("tr", {}, h("td", { class: "wrap" }, k), h("td", { class: "wrap" }, keyValue(v)))))),
    h("details", {}, h("summary", {}, t("cp.log")), table({ id: "cp-log" }, ["col.time", "cp.direction", "col.message"],
      log.map((e) => h("tr", {}, h("td", {}, fmtTime(e.ts)), h("td", {}, e.direction), h("td", { class: "wrap" }, e.message))))));
}
