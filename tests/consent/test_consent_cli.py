"""The consent command line acts as a named user: the same policy, the same audit trail as over HTTP."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.config import load_settings
from registry.services.accounts import create_agency, create_user
from registry.services.children import register_child_as
from registry.services.context import init_registry
from registry.store.db import Base
from registry.synth import generate

PASSWORD = "generated password عربي 7"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.delenv("REGISTRY_KEY_DIR", raising=False)
    reg, _ = init_registry(load_settings())
    Base.metadata.create_all(reg.db.engine)  # accounts/consent tables, until their migration exists
    create_agency(reg, "sy-daraa-ngo", "جمعية درعا", "SY-DR")
    create_agency(reg, "eg-aswan-ngo", "Aswan Children's Association", "EG-ASN")
    caseworker = create_user(reg, "maya.khoury", "sy-daraa-ngo", "caseworker", PASSWORD)
    create_user(reg, "karim.adel", "eg-aswan-ngo", "caseworker", PASSWORD)
    rows = [r.row for r in generate(20, seed=11).records if not r.bad_row]
    children = []
    for i, row in enumerate(rows[:2]):  # generated: one in Arabic script or Latin letters, as it comes
        raw = {k: v for k, v in row.items() if v and k in ("given_name", "father_name", "family_name")}
        children.append(register_child_as(reg, caseworker, raw | {"source_ref": f"DR-{i}"}).child_id)
    yield reg, children
    reg.close()


def run(*args: str):
    return CliRunner().invoke(app, list(args), input=PASSWORD + "\n")


def test_a_caseworker_records_lists_exports_and_withdraws_consent_from_the_command_line(setup):
    _, (child, _) = setup
    as_maya = ("--as", "maya.khoury", "--password-stdin")
    r = run("consents", "record", child, "--purpose", "share", "--recipient", "eg-aswan-ngo", "--grantor",
            "guardian", "--given-on", "2025-04-01", "--evidence-ref", "form/DR/9", *as_maya)
    assert r.exit_code == 0, r.output
    consent_id = r.output.split()[1]
    assert "share" in run("consents", "list", child, *as_maya).output
    assert '"resourceType": "Consent"' in run("consents", "list", child, "--fhir", *as_maya).output
    assert run("consents", "withdraw", consent_id, "--by", "guardian", *as_maya).exit_code == 0


def test_the_policy_applies_to_the_command_line_user(setup):
    _, (child, _) = setup
    r = run("consents", "list", child, "--as", "karim.adel", "--password-stdin")
    assert r.exit_code == 3 and "deny.not-in-caseload" in r.output  # 3: denied by the policy
    r = CliRunner().invoke(app, ["consents", "list", child, "--as", "karim.adel", "--password-stdin"],
                           input="wrong\n")
    assert r.exit_code == 6 and "wrong username, password or token" in r.output  # 6: not signed in
