"""The coverage service under waitress in a background thread, on a free loopback port."""
from __future__ import annotations

import threading

from waitress.server import create_server


class ServedApp:
    """``with ServedApp(app) as served: served.url("/api/contigs")``."""

    def __init__(self, app, threads: int = 4):
        self.server = create_server(app, host="127.0.0.1", port=0, threads=threads)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> "ServedApp":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.close()
        self.thread.join(timeout=10)
