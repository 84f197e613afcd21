"""The Flask application: the routes under ``/api/v1``, the OpenAPI document generated
from them (``/api/v1/openapi.json``) and Swagger UI at ``/api/docs``, served from the
hub itself (no CDN: a hub's network often has no internet)."""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from apiflask import APIFlask
from flask import redirect, send_from_directory

from hub_engine import __version__
from hub_engine.api import (
    routes_access,
    routes_alerts,
    routes_auth,
    routes_charge_points,
    routes_config,
    routes_cpo,
    routes_ems,
    routes_firmware,
    routes_history,
    routes_live,
    routes_maintenance,
    routes_reservations,
    routes_sessions,
    routes_system,
)
from hub_engine.api.context import ApiContext
from hub_engine.api.errors import ERROR_SCHEMA, install_error_handlers
from hub_engine.ui import STATIC_DIR

__all__ = ["create_app"]

_ASSETS = "/api/docs/assets"
MAX_BODY = 8 << 20  # the largest body: 500,000 characters of configuration, JSON-escaped


def create_app(ctx: ApiContext) -> APIFlask:
    app = APIFlask("hub_engine.api", title="Charge hub API", version=__version__,
                   spec_path="/api/v1/openapi.json", docs_path="/api/docs")
    app.config.update(
        HUB=ctx, MAX_CONTENT_LENGTH=MAX_BODY, JSON_SORT_KEYS=False,
        SWAGGER_UI_CSS=f"{_ASSETS}/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS=f"{_ASSETS}/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS=f"{_ASSETS}/swagger-ui-standalone-preset.js",
        DOCS_FAVICON=f"{_ASSETS}/favicon-32x32.png",
        INFO={"description": "Every route but /health, /auth/login and the CA certificate "
                             "needs `Authorization: Bearer <token>`; roles: reader < "
                             "operator < admin. Errors: `{\"error\": {\"status\", \"code\", "
                             "\"message\", \"detail\"}}`. Times are UTC (ISO 8601)."})
    install_error_handlers(app)
    for module in (routes_system, routes_auth, routes_charge_points, routes_sessions,
                   routes_ems, routes_live, routes_config, routes_access, routes_alerts,
                   routes_history, routes_maintenance, routes_firmware, routes_reservations,
                   routes_cpo):
        app.register_blueprint(module.bp)

    @app.spec_processor
    def error_responses(spec: Any) -> Any:
        """Every operation may answer an error in the one shape (bad JSON, too large,
        rate limited…): documented once as each operation's ``default`` response."""
        spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path in spec.get("paths", {}).values():
            for op in path.values():
                if isinstance(op, dict) and "responses" in op:
                    op["responses"].setdefault("default", {
                        "description": "an error: 4xx with a machine-readable reason",
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}}}})
        return spec

    @app.get("/")
    @app.doc(hide=True)
    def home() -> Any:
        return redirect("/ui/")

    @app.get("/ui/")
    @app.get("/ui/<path:name>")
    @app.doc(hide=True)
    def ui(name: str = "index.html") -> Any:
        resp = send_from_directory(STATIC_DIR, name)
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    @app.get(f"{_ASSETS}/<path:name>")
    @app.doc(hide=True)
    def docs_assets(name: str) -> Any:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, name)

    return app
