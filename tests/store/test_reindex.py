"""Rebuilding the linkage index from the vault, and rotating the linkage key (which is a rebuild)."""

from sqlalchemy import select

from registry.identity import validate_identity
from registry.services.context import open_registry
from registry.services.registration import erase_child, register_child
from registry.services.reindex import rebuild_index
from registry.store.tables.matching import LinkageEntry


def _tokens(reg):
    with reg.db.sessions() as s:
        return {e.record_id: (e.given_key, e.chain_keys, e.dob_full) for e in s.scalars(select(LinkageEntry))}


def _register(reg):
    rows = [("A-1", "يوسف", "Khaled", "2015-02-03"), ("A-2", "Youssef", "خالد", "2015-02-03"),
            ("A-3", "Mariam", "Samir", "2017-11-30")]
    return [register_child(reg, validate_identity({"source_ref": ref, "given_name": g, "father_name": f,
                                                   "family_name": "Nasser", "date_of_birth": d}, "ngo-1"))
            for ref, g, f, d in rows]


def test_rebuild_gives_the_same_encodings_and_skips_erased_records(registry):
    done = _register(registry)
    erase_child(registry, done[2].child_id)
    before = _tokens(registry)
    assert rebuild_index(registry) == 2
    assert _tokens(registry) == before and done[2].record_id not in before


def test_new_linkage_key_changes_every_token(registry):
    _register(registry)
    before = _tokens(registry)
    registry.keys.replace_linkage_key()
    fresh = open_registry(registry.settings, registry.keys)  # an encoder without the old key's cache
    assert rebuild_index(fresh) == 3
    after = _tokens(fresh)
    assert set(after) == set(before)
    for record_id, (given, chain, dob) in after.items():
        old_given, old_chain, old_dob = before[record_id]
        assert given != old_given and dob != old_dob and not set(chain.split()) & set(old_chain.split())
    fresh.close()
