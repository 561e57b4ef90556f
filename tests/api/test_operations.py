"""What a ministry's IT team runs the registry with: /ready apart from /health, Prometheus /metrics by route
template, a request id that reaches the audit events, and JSON log lines that never hold a pseudonym."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from registry.services import accounts
from registry.services.context import init_registry


def _caseworker(reg) -> dict[str, str]:
    accounts.create_agency(reg, "sy-hama-ngo", "جمعية رعاية الطفل - حماة", "SY-HM")
    accounts.create_user(reg, "cw-hama", "sy-hama-ngo", "caseworker", "a generated test password")
    return {"Authorization": f"Bearer {accounts.create_token(reg, 'cw-hama').token}"}


def test_ready_names_what_is_missing_and_health_only_says_alive(live_app):
    client, reg = live_app
    r = client.get("/ready")
    assert r.status_code == 200 and r.json()["checks"]["database"] == "ok" and r.json()["checks"]["schema"] == "ok"
    with reg.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    r = client.get("/ready")
    assert r.status_code == 503 and "registry init" in r.json()["checks"]["schema"]
    assert client.get("/health").status_code == 200


def test_metrics_by_route_template_and_the_request_id_in_the_audit_log(live_app):
    client, reg = live_app
    auth = _caseworker(reg)
    made = client.post("/v1/children", headers=auth | {"X-Request-ID": "req-ops-12345678"},
                       json={"source_ref": "H-1", "given_name": "ريم", "family_name": "Haddad"})
    assert made.status_code == 201 and made.headers["x-request-id"] == "req-ops-12345678"
    child = made.json()["child_id"]
    assert client.get(f"/v1/children/{child}", headers=auth).status_code == 200
    events = [reg.audit.entry(i).event for i in range(reg.audit.size())]
    register = next(e for e in events if e.action == "register")
    assert register.request_id == "req-ops-12345678"

    m = client.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    body = m.text
    assert 'route="/v1/children/{child_id}"' in body and child not in body  # templates, never a pseudonym
    assert "registry_http_request_seconds_bucket" in body
    assert 'registry_case_records{status="active"} 1.0' in body
    assert "registry_review_queue_open_pairs 0.0" in body and "registry_audit_log_entries" in body
    assert "ريم" not in body and "Haddad" not in body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_server_logs_json_lines_without_pseudonyms(tmp_path, monkeypatch):
    for name in [k for k in os.environ if k.startswith("REGISTRY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    env = dict(os.environ)
    reg, _ = init_registry()
    auth = _caseworker(reg)
    reg.close()
    port = _free_port()
    registry = Path(sys.executable).parent / "registry"
    proc = subprocess.Popen([str(registry), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        made = httpx.post(f"{base}/v1/children", headers=auth,
                          json={"source_ref": "L-1", "given_name": "Omar", "family_name": "الحلبي"})
        child = made.json()["child_id"]
        assert httpx.get(f"{base}/v1/children/{child}", headers=auth).status_code == 200
        assert httpx.get(f"{base}/v1/children/CR-2222-2222-222", headers=auth).status_code in (403, 404)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) >= 3
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(p.get("event", "").startswith("GET /v1/children/{child_id}") for p in parsed)
    assert child not in err and "CR-2222-2222-222" not in err and "Omar" not in err and "الحلبي" not in err


def test_a_model_file_of_an_older_version_is_reported_and_lookups_say_so_instead_of_failing(live_app):
    """After an upgrade that changes the model's format, the server keeps answering: /ready says the model must
    be retrained, and a lookup answers 503, until the next batch run retrains it."""
    client, reg = live_app
    auth = _caseworker(reg)
    path = reg.settings.model_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": "registry-linkage-model/3", "splink_settings": {}}))
    assert reg.model() is None
    ready = client.get("/ready")
    assert "older version" in ready.json()["checks"]["model"] and "registry dedupe" in ready.json()["checks"]["model"]
    query = {"purpose": "registration", "given_name": "يوسف", "family_name": "Al-Shami",
             "date_of_birth": "2016-05-04", "sex": "M"}
    r = client.post("/v1/lookups", headers=auth, json=query)
    assert r.status_code == 503, r.text
    # The caseworker is told lookups are unavailable (what to run is the administrator's, on /ready).
    assert r.json()["title"] == "Matching unavailable" and "Traceback" not in r.text
