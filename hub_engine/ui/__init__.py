"""The web interface: a static single-page application (no build step) served by the
engine next to the API it calls; the server enforces every role, the UI only hides."""

from pathlib import Path

__all__ = ["STATIC_DIR"]

STATIC_DIR = Path(__file__).parent / "static"
