// Alerts: those in force first (critical before warning), then the history; an operator
// acknowledges one (it stays until its condition ends, with who acknowledged it).
import { api, can, errorText, fmtTime, h, keep, note, show, t, table, tf } from "./core.js";

export async function alertsPage(gen) {
  const [active, past] = await Promise.all([api("/alerts", { query: { active: "true" } }), api("/alerts", { query: { active: "false", limit: 100 } })]);
  const msg = note("alerts-result");
  const order = { critical: 0, warning: 1 };
  active.sort((a, b) => order[a.severity] - order[b.severity] || b.id - a.id);
  const ack = async (a) => {
    try {
      await api(`/alerts/${a.id}/ack`, { method: "POST" });
      msg.className = "note ok"; msg.textContent = tf("alerts.acked", { id: a.id });
      keep(msg);
      await alertsPage(gen);
    } catch (err) { msg.className = "note error"; msg.textContent = errorText(err); }
  };
  const row = (a, live) => h("tr", { id: `alert-${a.id}`, class: `sev-${a.severity}` },
    h("td", {}, h("span", { class: `badge ${a.severity}` }, t(`alerts.${a.severity}`))),
    h("td", { class: "wide" }, a.message), h("td", {}, fmtTime(a.raised_at)),
    h("td", {}, live ? (a.acked_at ? tf("alerts.ackedby", { who: a.acked_by, when: fmtTime(a.acked_at) })
      : (can("operator") ? h("button", { class: "ack", onclick: () => ack(a) }, t("alerts.ack")) : t("alerts.notacked")))
      : fmtTime(a.cleared_at)));
  show(gen, h("h1", {}, t("alerts.title")), msg,
    active.length ? table({ id: "alerts-active" }, ["alerts.severity", "alerts.what", "alerts.raised", "alerts.ackcol"], active.map((a) => row(a, true)))
      : h("p", { class: "note ok", id: "alerts-none" }, t("alerts.none")),
    h("h2", {}, t("alerts.history")),
    table({ id: "alerts-past" }, ["alerts.severity", "alerts.what", "alerts.raised", "alerts.cleared"], past.map((a) => row(a, false))));
}
