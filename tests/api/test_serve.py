"""`registry serve` with several workers and a keep-alive longer than uvicorn's default (5 s), over a real socket;
its log holds no request values."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _get(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = int(next(line.split(b":")[1] for line in lines if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(4096)
    return head.split(b"\r\n")[0]


def _serve(tmp_path: Path, *args: str, **popen) -> tuple[subprocess.Popen, socket.socket]:
    """`registry init`, then `registry serve ARGS` on a free port; the server and a connection to it."""
    env = {**os.environ, "REGISTRY_HOME": str(tmp_path / "home")}
    for name in ("REGISTRY_DATABASE_URL", "REGISTRY_KEY_DIR"):
        env.pop(name, None)
    registry = [sys.executable, "-c", "from registry.cli import main; main()"]
    subprocess.run([*registry, "init"], env=env, cwd=REPO, check=True, capture_output=True, timeout=120)
    port = _free_port()
    proc = subprocess.Popen([*registry, "serve", "--port", str(port), *args], env=env, cwd=REPO, **popen)
    deadline = time.time() + 60
    while True:
        try:
            return proc, socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError("server did not start") from None
            time.sleep(0.3)


@pytest.mark.slow
def test_serve_with_workers_keeps_idle_connections_and_logs_no_query(tmp_path):
    proc, sock = _serve(tmp_path, "--workers", "2", "--keep-alive", "30",
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with sock:
            assert _get(sock, "/health?name=secret-query-value") == b"HTTP/1.1 200 OK"
            time.sleep(7)  # longer than uvicorn's default keep-alive of 5 s
            assert _get(sock, "/health") == b"HTTP/1.1 200 OK"  # the same connection, still open
    finally:
        proc.terminate()
        out, errs = proc.communicate(timeout=30)
    assert "secret-query-value" not in out + errs
    assert "Traceback" not in out + errs


def test_a_server_whose_standard_error_nobody_reads_keeps_answering(tmp_path):
    """The recorded "stall under load" (docs/security.md): a harness started `registry serve` with its standard
    error on a pipe it read only at the end. After some 64 KiB of log lines (about 420 requests) the pipe was
    full, every request blocked in its log call, and the server answered nothing more. Lines now go through a
    bounded queue and are dropped (and counted) when nobody reads them; requests never wait on the log."""
    proc, sock = _serve(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # never read until the end
    try:
        with sock:
            for _ in range(1500):  # well past what the pipe holds: each request logs a line of ~170 bytes
                assert _get(sock, "/health") == b"HTTP/1.1 200 OK"
    finally:
        proc.terminate()
        _, errs = proc.communicate(timeout=30)
    assert b"log lines dropped" in errs or len(errs) > 1500 * 100  # dropped and said so, or all written
