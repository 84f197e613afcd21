"""Accounts over real HTTP: no default password, sign-in and its rate limit, users, API
tokens, and every route's role enforced by the server."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import requests

from tests.integration.api_fixtures import Hub, hub_api

__all__ = ["hub_api"]

PUBLIC = {"/api/v1/health", "/api/v1/auth/login", "/api/v1/system/ca-certificate",
          "/api/v1/openapi.json"}


def test_first_run_makes_an_admin_with_a_private_random_password(
        hub_api: Hub, caplog: pytest.LogCaptureFixture) -> None:
    path = hub_api.data_dir / "initial-admin-password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = hub_api.admin_password
    assert len(password) >= 20
    assert hub_api.login("admin", password).status_code == 200
    wrong = hub_api.login("admin", "not-the-password")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    rows = hub_api.app.store.rows("SELECT password_hash FROM users WHERE login = 'admin'")
    assert rows[0][0].startswith("$argon2id$") and password not in rows[0][0]


def test_every_route_but_the_public_ones_needs_a_token(hub_api: Hub) -> None:
    from hub_engine.api.app import create_app

    rules = [r for r in create_app(hub_api.app.api.ctx).url_map.iter_rules()
             if r.rule.startswith("/api/v1") and r.rule not in PUBLIC]
    assert len(rules) >= 20
    for rule in rules:
        path = rule.rule.replace("<int:", "<").replace("<cp_id>", "CP1")
        path = path.replace("<token_id>", "1").replace("<session_id>", "1")
        path = path.replace("<alert_id>", "1").replace("<row_id>", "1")
        path = path.replace("<campaign_id>", "1").replace("<reservation_id>", "1")
        path = path.replace("<login>", "admin").replace("<job_id>", "x")
        path = path.replace("<name>", "reset").replace("<target>", "grid")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            resp = requests.request(method, f"http://127.0.0.1:{hub_api.app.api.ports['http']}"
                                    f"{path}", timeout=10, json={},
                                    headers={"Authorization": "Bearer hub_forged"})
            assert resp.status_code == 401, (method, path, resp.text)
            assert resp.json()["error"]["code"] == "unauthorized"


def test_roles_are_enforced_on_every_route(hub_api: Hub) -> None:
    """Each route names its least role; every lower role gets 403 there."""
    from hub_engine.api.app import create_app

    app = create_app(hub_api.app.api.ctx)
    rank = {"reader": 0, "operator": 1, "admin": 2}
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "_spec", {}).get("roles") or []
        if not rule.rule.startswith("/api/v1") or rule.rule in PUBLIC:
            continue
        assert roles, f"{rule.rule} has no role"
        path = rule.rule.replace("<int:token_id>", "999").replace("<int:session_id>", "999")
        path = path.replace("<int:alert_id>", "999").replace("<int:row_id>", "999")
        path = path.replace("<int:campaign_id>", "999").replace("<int:reservation_id>", "999")
        path = path.replace("<cp_id>", "CP1").replace("<login>", "nobody")
        path = path.replace("<job_id>", "x").replace("<name>", "reset")
        path = path.replace("<target>", "grid")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            for role in rank:
                if rank[role] >= rank[roles[0]]:
                    continue
                resp = hub_api.send(method, path[len("/api/v1"):], role, json={})
                assert resp.status_code == 403, (role, method, path, resp.text)
                checked += 1
    assert checked >= 15


def test_users_and_roles(hub_api: Hub) -> None:
    made = hub_api.send("POST", "/users", json={"login": "alice", "password": "short",
                                                 "role": "operator"})
    assert made.status_code == 422 and "password" in made.json()["error"]["detail"]["json"]
    made = hub_api.send("POST", "/users", json={"login": "alice", "role": "operator",
                                                 "password": "a-long-enough-password"})
    assert made.status_code == 201 and made.json()["role"] == "operator"
    again = hub_api.send("POST", "/users", json={"login": "alice", "role": "reader",
                                                  "password": "a-long-enough-password"})
    assert again.status_code == 400 and "exists" in again.json()["error"]["message"]
    token = hub_api.login("alice", "a-long-enough-password").json()["token"]
    alice = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{hub_api.url}/auth/me", headers=alice, timeout=10).json() == {
        "name": "alice", "role": "operator"}
    assert requests.get(f"{hub_api.url}/users", headers=alice, timeout=10).status_code == 403
    # A new password signs her sessions out.
    changed = hub_api.send("PATCH", "/users/alice", json={"password": "another-long-password"})
    assert changed.status_code == 200
    assert requests.get(f"{hub_api.url}/auth/me", headers=alice, timeout=10).status_code == 401
    assert hub_api.login("alice", "another-long-password").status_code == 200
    # The last administrator stays.
    last = hub_api.send("PATCH", "/users/admin", json={"role": "reader"})
    assert last.status_code == 400 and "last active administrator" in last.text
    assert hub_api.send("PATCH", "/users/nobody", json={"name": "x"}).status_code == 404
    hub_api.send("PATCH", "/users/alice", json={"disabled": True})
    assert hub_api.login("alice", "another-long-password").status_code == 401


def test_api_tokens_are_scoped_and_revocable(hub_api: Hub) -> None:
    made = hub_api.send("POST", "/tokens", json={"name": "erp", "role": "reader",
                                                  "expires_days": 30})
    assert made.status_code == 201
    token, token_id = made.json()["token"], made.json()["id"]
    erp = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{hub_api.url}/charge-points", headers=erp, timeout=10).ok
    put = requests.put(f"{hub_api.url}/ems/limits", headers=erp, timeout=10,
                       json={"target": "grid", "limit_a": 10,
                             "expires_at": "2099-01-01T00:00:00Z"})
    assert put.status_code == 403
    listed = hub_api.get("/tokens").json()
    assert [t["name"] for t in listed if not t["revoked"]] == ["erp"]
    assert token not in str(listed)  # shown once, never again
    stored = hub_api.app.store.rows("SELECT token_hash FROM api_tokens")
    assert all(token not in row[0] for row in stored)
    assert hub_api.send("DELETE", f"/tokens/{token_id}").status_code == 204
    assert requests.get(f"{hub_api.url}/charge-points", headers=erp,
                        timeout=10).status_code == 401
    assert hub_api.send("DELETE", f"/tokens/{token_id}").status_code == 404


def test_sign_in_is_rate_limited(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    try:
        for _ in range(5):
            assert hub.login("admin", "guess-guess-guess").status_code == 401
        limited = hub.login("admin", hub.admin_password)  # even the right one, for a while
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert limited.json()["error"]["code"] == "too_many_requests"
    finally:
        hub.stop()


def test_someone_elses_failures_lock_nobody_out(tmp_path: Path) -> None:
    """Behind one address (a reverse proxy, an office NAT) every user shares it: a
    guesser's failures on other accounts must not lock out the admin's right password,
    and X-Forwarded-For from a client that is no trusted proxy changes nothing."""
    hub = Hub(tmp_path)
    try:
        for n in range(8):
            assert hub.login(f"user{n % 2}", "guess-guess-guess").status_code == 401
        assert hub.login("admin", hub.admin_password).status_code == 200
        for _ in range(5):
            assert hub.login("mallory", "guess-guess-guess").status_code == 401
        spoofed = requests.post(f"{hub.url}/auth/login", timeout=10,
                                headers={"X-Forwarded-For": "203.0.113.9"},
                                json={"login": "mallory", "password": "guess-guess-guess"})
        assert spoofed.status_code == 429  # still 127.0.0.1: the header is not believed
        assert hub.login("admin", hub.admin_password).status_code == 200
    finally:
        hub.stop()


def test_admin_command_line_creates_users_and_sets_passwords(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "hub.yaml"
    config.write_text(f"hub: {{data_dir: {tmp_path / 'data'}}}\n"
                      "sites: [{id: s, grid: {id: g, limit_a: 40}}]\n")
    hub = [sys.executable, "-m", "hub_engine", "admin"]
    made = subprocess.run([*hub, "create-user", "bob", "--role", "admin", "--config",
                           str(config), "--password-stdin"], input="a-long-password-1\n",
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0 and "created bob" in made.stdout, made.stderr
    short = subprocess.run([*hub, "create-user", "eve", "--config", str(config),
                            "--password-stdin"], input="short\n", capture_output=True,
                           text=True, timeout=60)
    assert short.returncode == 1 and "12 characters" in short.stderr
    reset = subprocess.run([*hub, "set-password", "bob", "--config", str(config),
                            "--password-stdin"], input="a-long-password-2\n",
                           capture_output=True, text=True, timeout=60)
    assert reset.returncode == 0, reset.stderr
    running = Hub(tmp_path / "data")  # an administrator exists: no password file made
    try:
        assert not (tmp_path / "data" / "initial-admin-password").exists()
        assert running.login("bob", "a-long-password-2").json()["role"] == "admin"
        assert running.login("bob", "a-long-password-1").status_code == 401
    finally:
        running.stop()
