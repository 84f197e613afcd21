// The configuration: hub.yaml in an editor, every error listed with its key path, the
// warnings (a board rated above its parent), the history, and the engine's restart that
// applies a saved version while the charge points keep charging on their last limits.
// The engine says its errors and warnings in the page's language (Accept-Language).
import { API, api, errorText, fmtTime, h, note, show, state, t, tf } from "./core.js";

/** Waits for the engine to answer again with a new start time, then reloads the page. */
async function waitForRestart(before, status) {
  const until = Date.now() + 120000;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const resp = await fetch(`${API}/health`, { cache: "no-store" });
      const health = resp.ok ? await resp.json() : null;
      if (health && health.started_at !== before) {
        status.className = "note ok"; status.textContent = t("config.restarted");
        state.live = null;
        return true;
      }
    } catch { /* down while it restarts */ }
    status.textContent = `${t("config.restarting")} ${Math.round((until - Date.now()) / 1000)} s`;
  }
  status.className = "note error"; status.textContent = t("config.norestart");
  return false;
}

export async function configPage(gen) {
  const [cfg, hist, health] = await Promise.all([api("/config"), api("/config/history"),
    fetch(`${API}/health`, { cache: "no-store" }).then((r) => r.json()).catch(() => ({}))]);
  const area = h("textarea", { id: "config-text", "aria-label": t("config.title"), spellcheck: "false" });
  area.value = cfg.text;
  const msg = note("config-result");
  const errors = h("div", { id: "config-errors" });
  const restartMsg = note("restart-result");
  const save = async () => {
    errors.replaceChildren(); msg.className = "note"; msg.textContent = "";
    try {
      const r = await api("/config", { method: "PUT", body: { text: area.value } });
      msg.className = "note ok"; msg.textContent = tf("config.savedv", { version: r.version });
      if (r.warnings.length) errors.replaceChildren(h("p", {}, t("config.warnings")), h("ul", { class: "warn", id: "config-warnings" }, r.warnings.map((w) => {
        const m = w.match(/^(\S+)\s?: (.*)$/s) || [w, "", w];
        return h("li", {}, h("code", {}, m[1]), ` ${m[2]}`);
      })));
      restartBox.hidden = false;
    } catch (err) {
      const list = err.body?.error?.detail?.errors;
      msg.className = "note error";
      if (!list) { msg.textContent = errorText(err); return; }
      msg.textContent = tf("config.errors", { n: list.length });
      errors.replaceChildren(h("ul", { class: "error", id: "config-error-list" }, list.map((e) => h("li", {}, h("code", {}, e.path), ` ${e.message}`))));
    }
  };
  const restartBox = h("div", { class: "card", id: "restart-box", hidden: true },
    h("p", {}, t("config.restartwhy")),
    h("button", { class: "primary", id: "restart", onclick: async () => {
      if (!confirm(t("config.restartconfirm"))) return;
      try {
        const r = await api("/system/restart", { method: "POST" });
        restartMsg.className = "note"; restartMsg.textContent = t("config.restarting");
        if (await waitForRestart(r.started_at, restartMsg)) setTimeout(() => configPage(state.gen), 500);
      } catch (err) { restartMsg.className = "note error"; restartMsg.textContent = errorText(err); }
    } }, t("config.restart")), restartMsg);
  show(gen, h("h1", {}, t("config.title")), h("p", { class: "muted" }, `${cfg.source} → ${cfg.saves_to}`), area,
    h("p", {}, h("button", { class: "primary", id: "config-save", onclick: save }, t("config.save"))), msg, errors, restartBox,
    h("p", { class: "muted" }, t("config.applies")),
    h("h2", {}, t("config.history")), h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {}, hist.map((v) => h("tr", {},
      h("td", {}, String(v.version)), h("td", {}, fmtTime(v.saved_at)), h("td", {}, v.author),
      h("td", {}, h("button", { onclick: () => { area.value = v.text; } }, t("config.load")))))))));
  // A version saved after the engine started waits for a restart.
  restartBox.hidden = !(hist.length && Date.parse(hist[0].saved_at) > Date.parse(health.started_at));
}
