// Users and API tokens (admin): add, disable, create a token shown once, revoke.
import { api, errorText, fmtTime, h, show, state, t } from "./core.js";

export async function usersPage(gen) {
  const [users, tokens] = await Promise.all([api("/users"), api("/tokens")]);
  const msg = h("p", { role: "status" });
  const userForm = h("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault(); const f = new FormData(userForm);
    try { await api("/users", { method: "POST", body: { login: f.get("login"), password: f.get("password"), role: f.get("role"), name: "" } }); usersPage(state.gen); }
    catch (err) { msg.textContent = errorText(err); }
  } }, h("label", {}, t("login.login"), h("input", { name: "login", required: true })),
    h("label", {}, t("login.password"), h("input", { name: "password", type: "password", minlength: 12, required: true })),
    h("label", {}, t("col.role"), h("select", { name: "role" }, ["reader", "operator", "admin"].map((r) => h("option", { value: r }, r)))),
    h("button", { type: "submit", class: "primary" }, t("users.add")));
  const tokenForm = h("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault(); const f = new FormData(tokenForm);
    try { const r = await api("/tokens", { method: "POST", body: { name: f.get("name"), role: f.get("role") } }); msg.textContent = `${t("users.tokenonce")} ${r.token}`; }
    catch (err) { msg.textContent = errorText(err); }
  } }, h("label", {}, t("col.name"), h("input", { name: "name", required: true })),
    h("label", {}, t("col.role"), h("select", { name: "role" }, ["reader", "operator", "admin"].map((r) => h("option", { value: r }, r)))),
    h("button", { type: "submit" }, t("users.addtoken")));
  show(gen, h("h1", {}, t("users.title")), h("div", { class: "table-wrap" }, h("table", { id: "users" }, h("tbody", {}, users.map((u) => h("tr", {},
    h("td", {}, u.login), h("td", {}, u.role), h("td", {}, u.disabled ? t("col.disabled") : ""),
    h("td", {}, h("button", { onclick: async () => { try { await api(`/users/${u.login}`, { method: "PATCH", body: { disabled: !u.disabled } }); usersPage(state.gen); } catch (err) { msg.textContent = errorText(err); } } },
      t(u.disabled ? "users.enable" : "users.disable")))))))), userForm, msg,
    h("h2", {}, t("users.tokens")), h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {}, tokens.filter((x) => !x.revoked).map((x) => h("tr", {},
      h("td", {}, x.name), h("td", {}, x.role), h("td", {}, fmtTime(x.created_at)),
      h("td", {}, h("button", { onclick: async () => { await api(`/tokens/${x.id}`, { method: "DELETE" }); usersPage(state.gen); } }, t("users.revoke")))))))), tokenForm);
}

