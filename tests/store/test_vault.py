"""The vault: round trip, binding to the record, rotation without loss, erasure by crypto-shredding."""

import nacl.exceptions
import pytest
from sqlalchemy import select, update

from registry.identity import validate_identity
from registry.identity.vault import Erased
from registry.keys import load_keys
from registry.services.registration import erase_child, get_child, register_child
from registry.store.models import VaultEntry


def ident(ref="C-1", **kw):
    base = dict(source_ref=ref, given_name="فاطمة", father_name="أحمد", family_name="Al-Khatib",
                sex="F", date_of_birth="2016-04-02", governorate="SY-HM")
    base.update(kw)
    return validate_identity(base, institution="ngo-hama-1")


def test_seal_then_open_returns_the_same_identity(registry):
    r = register_child(registry, ident())
    with registry.db.unit_of_work() as s:
        assert registry.vault.open(s, r.record_id) == ident()


def test_ciphertext_moved_to_another_record_does_not_open(registry):
    a = register_child(registry, ident("C-1"))
    b = register_child(registry, ident("C-2", given_name="Mariam"))
    with registry.db.unit_of_work() as s:
        ea, eb = s.get(VaultEntry, a.record_id), s.get(VaultEntry, b.record_id)
        eb.ciphertext, eb.wrapped_data_key = ea.ciphertext, ea.wrapped_data_key
    with registry.db.unit_of_work() as s, pytest.raises(nacl.exceptions.CryptoError):
        registry.vault.open(s, b.record_id)


def test_tampered_ciphertext_is_rejected(registry):
    r = register_child(registry, ident())
    with registry.db.unit_of_work() as s:
        e = s.get(VaultEntry, r.record_id)
        blob = bytearray(e.ciphertext)
        blob[-1] ^= 1
        e.ciphertext = bytes(blob)
    with registry.db.unit_of_work() as s, pytest.raises(nacl.exceptions.CryptoError):
        registry.vault.open(s, r.record_id)


def test_rotation_rewraps_every_data_key_and_loses_nothing(registry):
    refs = [register_child(registry, ident(f"C-{i}", given_name=n)) for i, n in
            enumerate(["محمد", "Omar", "عمرو", "Hassan", "حسين"])]
    new_version = registry.keys.add_vault_master_key()
    assert new_version == 2
    # Readable mid-rotation: old entries still under v1, new ones under v2.
    late = register_child(registry, ident("C-late", given_name="Nour"))
    assert registry.vault.rotate(registry.db.sessions, batch=2) == len(refs)
    with registry.db.unit_of_work() as s:
        assert registry.vault.versions_in_use(s) == {2: len(refs) + 1}
    # The retired key is gone from the key file, and every identity still opens with the reloaded keys.
    registry.keys.retire_vault_master_keys(keep={2})
    reloaded = load_keys(registry.settings.key_dir)
    assert set(reloaded.vault_keys) == {2}
    from registry.identity.vault import Vault

    vault = Vault(reloaded)
    with registry.db.unit_of_work() as s:
        names = sorted(vault.open(s, r.record_id).given_name for r in refs + [late])
    assert names == sorted(["محمد", "Omar", "عمرو", "Hassan", "حسين", "Nour"])


def test_erasure_destroys_the_data_key_and_keeps_the_pseudonym(registry):
    r = register_child(registry, ident())
    assert erase_child(registry, r.child_id) == 1
    with registry.db.unit_of_work() as s:
        entry = s.get(VaultEntry, r.record_id)
        assert entry.wrapped_data_key is None and entry.ciphertext is None and entry.erased_at is not None
        with pytest.raises(Erased):
            registry.vault.open(s, r.record_id)
    view = get_child(registry, r.child_id)
    assert view.status == "erased"
    assert view.records[0]["identity"] is None and view.records[0]["source_ref"] is None


def test_erased_record_is_not_registered_again_by_a_later_import(registry):
    from registry.errors import Conflict

    r = register_child(registry, ident())
    erase_child(registry, r.child_id)
    with pytest.raises(Conflict) as e:
        register_child(registry, ident())
    assert e.value.field == "source_ref"


def test_every_vault_entry_records_the_master_key_version(registry):
    register_child(registry, ident())
    with registry.db.unit_of_work() as s:
        assert s.scalars(select(VaultEntry.master_key_version)).all() == [1]
        s.execute(update(VaultEntry).values(master_key_version=7))
    with registry.db.unit_of_work() as s, pytest.raises(Exception, match="version 7"):
        registry.vault.open(s, s.scalars(select(VaultEntry.record_id)).one())


def test_erasure_is_in_the_audit_log_by_pseudonym(registry):
    r = register_child(registry, ident())
    erase_child(registry, r.child_id)
    last = registry.audit.entry(registry.audit.size() - 1).event
    assert (last.action, last.children, last.outcome) == ("erase", (r.child_id,), "success")
