"""Serving the page on 127.0.0.1 only."""

from __future__ import annotations

from pathlib import Path


def serve(port: int = 5006, open_browser: bool = True, results_root: Path | None = None) -> None:
    """Serve the planners' app at http://127.0.0.1:PORT until interrupted."""
    import panel as pn

    from .page import build

    pn.serve({"/": lambda: build(results_root)}, port=port, address="127.0.0.1", allow_websocket_origin=[
        f"127.0.0.1:{port}", f"localhost:{port}"], show=open_browser, title="dispute-sim planner",
        print_url=True, threaded=False)
