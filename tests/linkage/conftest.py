"""A registry filled with generated children and a trained model, shared by the linkage tests (training
takes seconds, so it is done once per module)."""


import pytest

from registry.identity import validate_identity
from registry.services.dedupe import run_dedupe
from registry.synth import generate


@pytest.fixture(scope="module")
def trained(tmp_path_factory, registry_factory):
    home = tmp_path_factory.mktemp("linkage")
    reg = registry_factory(home / "home", f"sqlite:///{home / 'registry.db'}")
    result = generate(2500, seed=11)
    from registry.services.registration import register_records

    valid = [(validate_identity(r.row), r) for r in result.records if not r.bad_row]
    with reg.db.unit_of_work() as s:
        register_records(reg, s, [(i, None) for i, _ in valid])
    run = run_dedupe(reg)
    yield reg, valid, run
    reg.close()
