// Members and badges, the site operator's daily work: members created, edited and
// blocked (windows, credit, allowed charge points), the credit ledger, badges enrolled
// (unknown ones in one click), CSV import that says what it did, CSV export.
import { act, api, can, download, errorText, fmtKwh, fmtTime, h, keep, note, show, state, t, table, tf } from "./core.js";

const kwh = (wh) => (wh === null || wh === undefined ? "" : String(wh / 1000));
const wh = (text) => (String(text).trim() === "" ? null : Math.round(Number(String(text).replace(",", ".")) * 1000));

function memberForm(member, places, onDone) {
  const m = member || { name: "", group: "", windows_text: "", credit_wh: null, refill_period: "none",
    refill_mode: "add", refill_wh: 0, on_exhausted: "stop", charge_points: [], blocked: false, solar_mode: null,
    departure_time: null, energy_need_wh: null };
  const msg = note("member-result");
  const opt = (value, key, cur) => h("option", { value, selected: value === cur }, t(key));
  const boxes = places.map((p) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "cp", value: p, checked: m.charge_points.includes(p) }), p));
  const form = h("form", { class: "grid-form", id: "member-form", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const name = member ? member.name : String(f.get("name")).trim();
    const credit = wh(f.get("credit"));
    if (f.get("credit") !== "" && Number.isNaN(credit)) { msg.className = "note error"; msg.textContent = `${t("error")}: ${t("members.credit")}`; return; }
    const body = { group: f.get("group"), windows_text: f.get("windows"), credit_wh: credit,
      refill_period: f.get("refill_period"), refill_mode: f.get("refill_mode"), refill_wh: wh(f.get("refill")) ?? 0,
      on_exhausted: f.get("on_exhausted"), charge_points: f.getAll("cp"), blocked: f.get("blocked") === "on",
      solar_mode: f.get("solar_mode") || null, departure_time: f.get("departure_time") || null,
      energy_need_wh: wh(f.get("energy_need")) };
    const done = await act(msg, () => api(`/members/${encodeURIComponent(name)}`, { method: "PUT", body }), t("members.saved"));
    if (done) onDone(name, t("members.saved"));
  } },
  h("label", {}, t("col.name"), h("input", { name: "name", id: "member-name", required: true, maxlength: 100, value: m.name, readonly: Boolean(member) })),
  h("label", {}, t("members.group"), h("input", { name: "group", maxlength: 64, value: m.group })),
  h("label", { class: "wide" }, t("members.windows"), h("input", { name: "windows", id: "member-windows", value: m.windows_text, placeholder: t("members.windows.hint") }),
    h("small", { class: "muted" }, t("members.windows.help"))),
  h("label", {}, t("members.credit"), h("input", { name: "credit", id: "member-credit", inputmode: "decimal", value: kwh(m.credit_wh), placeholder: t("members.nocredit") })),
  h("label", {}, t("members.refill"), h("select", { name: "refill_period" }, ["none", "daily", "weekly", "monthly"].map((v) => opt(v, `refill.${v}`, m.refill_period)))),
  h("label", {}, t("members.refillkwh"), h("input", { name: "refill", inputmode: "decimal", value: kwh(m.refill_wh) })),
  h("label", {}, t("members.refillmode"), h("select", { name: "refill_mode" }, ["add", "reset"].map((v) => opt(v, `refillmode.${v}`, m.refill_mode)))),
  h("label", {}, t("members.exhausted"), h("select", { name: "on_exhausted" }, ["stop", "limit"].map((v) => opt(v, `exhausted.${v}`, m.on_exhausted)))),
  h("label", {}, t("members.solar"), h("select", { name: "solar_mode", id: "member-solar" },
    ["", "off", "surplus", "min_solar"].map((v) => opt(v, `solar.${v || "site"}`, m.solar_mode || "")))),
  h("label", {}, t("members.departure"), h("input", { name: "departure_time", id: "member-departure", type: "time", value: m.departure_time || "" })),
  h("label", {}, t("members.need"), h("input", { name: "energy_need", id: "member-need", inputmode: "decimal", value: kwh(m.energy_need_wh) }),
    h("small", { class: "muted" }, t("members.plan.help"))),
  h("fieldset", { class: "wide" }, h("legend", {}, t("members.places")), boxes.length ? boxes : h("span", { class: "muted" }, "—"),
    h("small", { class: "muted" }, t("members.places.help"))),
  h("label", { class: "check" }, h("input", { type: "checkbox", name: "blocked", id: "member-blocked", checked: m.blocked }), t("members.blocked")),
  h("p", { class: "wide" }, h("button", { class: "primary", type: "submit", id: "member-save" }, t(member ? "members.save" : "members.create")),
    " ", h("button", { type: "button", onclick: () => onDone(null) }, t("cancel"))), msg);
  return form;
}

async function ledger(name) {
  const rows = await api(`/members/${encodeURIComponent(name)}/ledger`);
  return [h("h2", {}, tf("members.ledgerof", { name })), rows.length ? table({ id: "ledger" },
    ["col.time", "members.delta", "members.balance", "members.reason", "col.id"],
    rows.map((r) => h("tr", {}, h("td", {}, fmtTime(r.ts)), h("td", { class: "num" }, fmtKwh(r.delta_wh)),
      h("td", { class: "num" }, fmtKwh(r.balance_wh)), h("td", {}, t(`ledger.${r.reason}`)),
      h("td", {}, r.transaction_id ? h("a", { href: `#/sessions/${r.transaction_id}` }, String(r.transaction_id)) : "")))) :
    h("p", { class: "muted" }, "—")];
}

export async function membersPage(gen, arg) {
  const [members, badges, unknown, tree] = await Promise.all([api("/members"), api("/badges"),
    can("operator") ? api("/unknown-badges") : [], api("/ems/tree")]);
  const places = [...tree.map((n) => n.id), ...tree.flatMap((n) => n.charge_points)];
  const msg = note("badges-result");
  // Read everything again, keeping what the last action said.
  const reload = () => { keep(msg); return membersPage(state.gen, arg); };
  const edit = arg && arg !== "new" ? members.find((m) => m.name === decodeURIComponent(arg)) : null;
  const go = (name, said) => {
    const next = name ? `#/members/${encodeURIComponent(name)}` : "#/members";
    if (said) { msg.className = "note ok"; msg.textContent = said; keep(msg); }
    if (location.hash === next) reload(); else location.hash = next;  // same page: read again
  };
  const names = members.map((m) => m.name);
  const enrol = (tag) => {
    const select = h("select", { "aria-label": `${t("badges.member")} ${tag}`, id: `member-for-${tag}` }, names.map((n) => h("option", { value: n }, n)));
    return [select, " ", h("button", { class: "primary", id: `enrol-${tag}`, onclick: () => act(msg,
      () => api(`/badges/${encodeURIComponent(tag)}`, { method: "PUT", body: { member: select.value } }),
      tf("badges.enrolled", { tag, member: select.value })).then((r) => r !== undefined && reload()) }, t("badges.enrol"))];
  };
  const badgeAction = (b) => [
    h("button", { id: `badge-block-${b.id_tag}`, onclick: () => act(msg, () => api(`/badges/${encodeURIComponent(b.id_tag)}`, { method: "PUT",
      body: { member: b.member, status: b.status === "Blocked" ? "Accepted" : "Blocked", label: b.label, expiry: b.expiry, parent_id_tag: b.parent_id_tag } })).then((r) => r !== undefined && reload()) },
      t(b.status === "Blocked" ? "badges.unblock" : "badges.block")), " ",
    h("button", { class: "danger", onclick: () => { if (confirm(tf("badges.confirmremove", { tag: b.id_tag }))) act(msg, () => api(`/badges/${encodeURIComponent(b.id_tag)}`, { method: "DELETE" })).then((r) => r !== undefined && reload()); } }, t("badges.remove"))];
  const addBadge = h("form", { class: "inline", id: "badge-form", onsubmit: async (e) => {
    e.preventDefault(); const f = new FormData(addBadge);
    const tag = String(f.get("id_tag")).trim();
    const r = await act(msg, () => api(`/badges/${encodeURIComponent(tag)}`, { method: "PUT", body: { member: f.get("member") || null, label: f.get("label") } }),
      tf("badges.enrolled", { tag, member: f.get("member") || "—" }));
    if (r) reload();
  } }, h("label", {}, t("col.badge"), h("input", { name: "id_tag", id: "badge-tag", required: true, maxlength: 20, size: 14 })),
    h("label", {}, t("badges.member"), h("select", { name: "member", id: "badge-member" }, h("option", { value: "" }, "—"), names.map((n) => h("option", { value: n }, n)))),
    h("label", {}, t("badges.label"), h("input", { name: "label", maxlength: 100, size: 14 })),
    h("button", { type: "submit", class: "primary" }, t("badges.add")));
  const file = h("input", { type: "file", accept: ".csv,text/csv", id: "csv-file", "aria-label": t("badges.import") });
  const importCsv = async () => {
    const text = await file.files[0]?.text();
    if (!text) return;
    try {
      const r = await api("/access/import", { method: "POST", body: text, raw: true });
      msg.className = "note ok"; msg.textContent = tf("badges.importdone", { members: r.members, badges: r.badges });
      setTimeout(() => reload(), 300);
    } catch (err) {
      const lines = err.body?.error?.detail?.lines;
      msg.className = "note error";
      msg.replaceChildren(h("strong", {}, t("badges.importnothing")), lines?.length
        ? h("ul", {}, lines.map((l) => h("li", {}, tf("badges.line", { line: l.line, message: l.message })))) : ` ${errorText(err)}`);
    }
  };
  const memberRows = members.map((m) => h("tr", { id: `member-${m.name}`, class: m.blocked ? "row-blocked" : null },
    h("td", {}, m.name), h("td", {}, m.group),
    h("td", { class: "state" }, m.blocked ? t("members.isblocked") : t("members.active")),
    h("td", { class: "num" }, m.credit_wh === null ? t("members.nocredit") : fmtKwh(m.credit_wh)),
    h("td", {}, m.windows_text || t("members.always")), h("td", {}, m.charge_points.join(", ") || t("members.everywhere")),
    h("td", {}, m.badges.join(", ")),
    h("td", {}, can("operator") ? [h("a", { class: "button", href: `#/members/${encodeURIComponent(m.name)}`, id: `edit-${m.name}` }, t("members.edit")), " ",
      h("button", { id: `block-${m.name}`, onclick: () => act(msg, () => api(`/members/${encodeURIComponent(m.name)}`, { method: "PUT", body: { blocked: !m.blocked } }),
        tf(m.blocked ? "members.unblocked" : "members.wasblocked", { name: m.name })).then((r) => r !== undefined && reload()) }, t(m.blocked ? "members.unblock" : "members.block"))] : null)));
  const editing = arg === "new" || edit ? [h("h2", {}, edit ? tf("members.editing", { name: edit.name }) : t("members.new")), memberForm(edit, places, go),
    edit ? await ledger(edit.name) : null] : null;
  show(gen, h("h1", {}, t("badges.title")), msg, editing,
    unknown.length ? [h("h2", {}, t("badges.unknown")), table({ id: "unknown" }, ["col.badge", "col.cp", "badges.lastseen", "badges.attempts", null],
      unknown.map((u) => h("tr", {}, h("td", {}, u.id_tag), h("td", {}, u.charge_point), h("td", {}, fmtTime(u.last_seen)), h("td", { class: "num" }, String(u.attempts)),
        h("td", {}, can("operator") && names.length ? enrol(u.id_tag) : null))))] : null,
    h("h2", {}, t("badges.members")),
    can("operator") && !editing ? h("p", {}, h("a", { class: "button primary", href: "#/members/new", id: "member-new" }, t("members.new"))) : null,
    table({ id: "members" }, ["col.name", "members.group", "col.status", "members.credit", "members.windows", "members.places", "badges.badges", null], memberRows),
    h("h2", {}, t("badges.badges")),
    table({ id: "badges" }, ["col.badge", "badges.member", "col.status", "badges.label", "badges.expiry", null], badges.map((b) => h("tr", {},
      h("td", {}, b.id_tag), h("td", {}, b.member || "—"), h("td", {}, t(`badge.${b.status}`)), h("td", {}, b.label), h("td", {}, fmtTime(b.expiry)),
      h("td", {}, can("operator") ? badgeAction(b) : null)))),
    can("operator") ? [h("h2", {}, t("badges.add")), addBadge] : null,
    h("h2", {}, t("badges.csv")),
    h("p", {}, h("button", { onclick: () => download("/access/export", "members-badges.csv").catch((err) => { msg.textContent = errorText(err); }) }, t("badges.export")), " ",
      can("operator") ? [file, " ", h("button", { id: "csv-import", onclick: importCsv }, t("badges.import"))] : null),
    h("p", { class: "muted" }, t("badges.csvhelp")));
}
