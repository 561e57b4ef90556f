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


def test_a_batch_run_waits_for_entries_an_earlier_name_analysis_wrote_to_be_rebuilt(registry):
    from sqlalchemy import func, update

    from registry.errors import Conflict
    from registry.matching.index import ENCODING_VERSION
    from registry.services.dedupe import run_dedupe
    from registry.store.tables.matching import DedupeRun

    _register(registry)
    with registry.db.unit_of_work() as s:  # as an upgrade finds them: written by the previous version
        s.execute(update(LinkageEntry).values(encoding_version=ENCODING_VERSION - 1))
    try:
        run_dedupe(registry)
    except Conflict as e:
        assert e.field == "index" and "3 records" in str(e) and "registry index rebuild" in str(e)
    else:
        raise AssertionError("a batch run over an index of two encodings was not refused")
    with registry.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(DedupeRun)) == 0  # refused before anything was written
    assert rebuild_index(registry) == 3
    with registry.db.sessions() as s:
        assert registry.index.outdated(s) == 0  # what the refusal reads: the next run goes ahead
