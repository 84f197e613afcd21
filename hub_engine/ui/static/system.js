// The administrator's system page: backups (the latest, those kept, one now), the mail
// server (its settings, a test e-mail) and the reports (one sent now).
import { api, errorText, fmtTime, h, keep, note, show, t, table, tf } from "./core.js";

const mb = (bytes) => (bytes < 1e6 ? `${Math.max(1, Math.round(bytes / 1e3))} kB`
  : `${(bytes / 1e6).toLocaleString(undefined, { maximumFractionDigits: 1 })} MB`);

async function watchBackup(status, gen) {
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const b = await api("/system/backups");
    if (!b.running) {
      status.className = b.last?.ok ? "note ok" : "note error";
      status.textContent = b.last?.ok ? tf("system.backup.done", { file: b.last.file, size: mb(b.last.size_bytes) })
        : tf("system.backup.failed", { why: b.last?.error || "?" });
      keep(status);
      return systemPage(gen);
    }
  }
  return null;
}

export async function systemPage(gen) {
  const [backups, mail] = await Promise.all([api("/system/backups"), api("/system/mail")]);
  const backupMsg = note("backup-result");
  const mailMsg = note("mail-result");
  const reportMsg = note("report-result");
  const last = backups.last;
  const backupBox = h("section", { class: "card", id: "backups" }, h("h2", {}, t("system.backups")),
    backups.folder ? h("p", {}, tf("system.backup.where", { folder: backups.folder, time: backups.time, keep: backups.keep }))
      : h("p", { class: "warn" }, t("system.backup.nofolder")),
    last ? h("p", { id: "backup-last", class: last.ok ? "ok" : "error" }, last.ok ? tf("system.backup.last", { when: fmtTime(last.at), file: last.file, size: mb(last.size_bytes) })
      : tf("system.backup.lastfailed", { when: fmtTime(last.at), why: last.error })) : null,
    backups.next_at ? h("p", { class: "muted" }, tf("system.backup.next", { when: fmtTime(backups.next_at) })) : null,
    h("p", {}, h("button", { class: "primary", id: "backup-now", disabled: !backups.folder || backups.running, onclick: async () => {
      try {
        await api("/system/backups", { method: "POST" });
        backupMsg.className = "note"; backupMsg.textContent = t("system.backup.running");
        await watchBackup(backupMsg, gen);
      } catch (err) { backupMsg.className = "note error"; backupMsg.textContent = errorText(err); }
    } }, t("system.backup.now")), backupMsg),
    backups.backups.length ? table({ id: "backup-list" }, ["system.backup.file", "system.backup.parts", "system.backup.size"],
      backups.backups.map((b) => h("tr", {}, h("td", {}, b.file), h("td", { class: "num" }, String(b.parts)), h("td", { class: "num" }, mb(b.size_bytes))))) : null,
    h("p", { class: "muted" }, t("system.backup.restore")));
  const testForm = h("form", { class: "inline", id: "mail-test", onsubmit: async (e) => {
    e.preventDefault();
    mailMsg.className = "note"; mailMsg.textContent = t("system.mail.sending");
    try {
      await api("/system/mail/test", { method: "POST", body: { to: new FormData(testForm).get("to") } });
      mailMsg.className = "note ok"; mailMsg.textContent = t("system.mail.sent");
    } catch (err) { mailMsg.className = "note error"; mailMsg.textContent = errorText(err); }
  } }, h("label", {}, t("system.mail.to"), h("input", { type: "email", name: "to", id: "mail-to", required: true })),
  h("button", { type: "submit", class: "primary", disabled: !mail.configured }, t("system.mail.test")));
  const mailBox = h("section", { class: "card", id: "mail" }, h("h2", {}, t("system.mail")),
    mail.configured ? h("dl", { id: "mail-settings" },
      h("dt", {}, t("system.mail.server")), h("dd", {}, `${mail.host}:${mail.port} (${mail.security})`),
      h("dt", {}, t("system.mail.from")), h("dd", {}, mail.from_address),
      h("dt", {}, t("system.mail.login")), h("dd", {}, mail.username ? `${mail.username} · ${t(mail.password_set ? "system.mail.pwset" : "system.mail.nopw")}` : "—"),
      h("dt", {}, t("system.mail.alerts")), h("dd", {}, mail.alerts_to.join(", ") || "—"),
      h("dt", {}, t("system.mail.reports")), h("dd", {}, mail.reports_to.join(", ") || "—"),
      h("dt", {}, t("system.mail.stats")), h("dd", {}, tf("system.mail.statsv", { sent: mail.sent, failed: mail.failed.length })))
      : h("p", { class: "warn" }, t("system.mail.none")),
    h("p", { class: "muted" }, t("system.mail.howto")), testForm, mailMsg);
  const reportBox = h("section", { class: "card", id: "reports" }, h("h2", {}, t("system.reports")),
    h("p", {}, ["week", "month"].map((p) => h("button", { type: "button", id: `report-${p}`, disabled: !mail.configured || !mail.reports_to.length, onclick: async () => {
      reportMsg.className = "note"; reportMsg.textContent = t("system.mail.sending");
      try {
        const r = await api("/system/reports/send", { method: "POST", body: { period: p } });
        reportMsg.className = "note ok"; reportMsg.textContent = tf("system.report.sent", { period: r.period, n: r.sessions, to: mail.reports_to.join(", ") });
      } catch (err) { reportMsg.className = "note error"; reportMsg.textContent = errorText(err); }
    } }, t(`system.report.${p}`))), reportMsg));
  show(gen, h("h1", {}, t("system.title")), backupBox, mailBox, reportBox);
}
