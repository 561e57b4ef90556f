"""RFC 6962 hashing and proofs against the Certificate Transparency reference vectors, and properties."""

from __future__ import annotations

import hashlib
import random

import pytest

from registry.audit import merkle
from registry.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root,
    verify_consistency,
    verify_inclusion,
)

# Leaves and roots from the certificate-transparency / transparency-dev reference tests.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

LEAF_HASHES = [hash_leaf(d) for d in LEAVES]


def test_hashes_use_the_rfc_prefixes():
    assert hash_leaf(b"x") == hashlib.sha256(b"\x00x").digest()
    assert hash_children(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert ROOTS[0] == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_reference_for_every_size(size):
    assert root(LEAF_HASHES[:size]) == ROOTS[size]


def test_split_is_the_largest_power_of_two_below_n():
    assert [merkle.split_point(n) for n in (2, 3, 4, 5, 8, 9, 1000)] == [1, 2, 2, 4, 4, 8, 512]


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_inclusion_proofs_match_the_reference(index, size, proof):
    expected = [bytes.fromhex(p) for p in proof]
    assert inclusion_proof(index, size, LEAF_HASHES) == expected
    assert verify_inclusion(LEAF_HASHES[index], index, size, expected, ROOTS[size])


@pytest.mark.parametrize("old,new,proof", CONSISTENCY)
def test_consistency_proofs_match_the_reference(old, new, proof):
    expected = [bytes.fromhex(p) for p in proof]
    assert consistency_proof(old, new, LEAF_HASHES) == expected
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)


def _leaves(n: int) -> list[bytes]:
    return [hash_leaf(f"entry-{i}".encode()) for i in range(n)]


BIG = _leaves(70)
BIG_ROOTS = [root(BIG[:n]) for n in range(len(BIG) + 1)]


def test_frontier_gives_the_same_root_as_the_recursive_definition_at_every_size():
    f = Frontier()
    assert f.root() == EMPTY_ROOT
    for n, leaf in enumerate(BIG, start=1):
        f.append(leaf)
        assert f.root() == BIG_ROOTS[n]
        resumed = Frontier(f.size, list(f.hashes))  # what storage saves and reloads
        assert resumed.root() == BIG_ROOTS[n]


def test_every_inclusion_proof_verifies_and_tampered_ones_do_not():
    rng = random.Random(6)
    for n in range(1, len(BIG) + 1):
        for i in range(n):
            proof = inclusion_proof(i, n, BIG)
            assert verify_inclusion(BIG[i], i, n, proof, BIG_ROOTS[n]), (i, n)
            assert not verify_inclusion(BIG[(i + 1) % n], i, n, proof, BIG_ROOTS[n]) or n == 1
            if n > 1:
                assert not verify_inclusion(BIG[i], (i + 1) % n, n, proof, BIG_ROOTS[n])
                assert not verify_inclusion(BIG[i], i, n, proof, BIG_ROOTS[n - 1])
            if proof:
                bad = list(proof)
                k = rng.randrange(len(bad))
                bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
                assert not verify_inclusion(BIG[i], i, n, bad, BIG_ROOTS[n])
                assert not verify_inclusion(BIG[i], i, n, proof[:-1], BIG_ROOTS[n])
            assert not verify_inclusion(BIG[i], i, n, proof + [b"\xab" * 32], BIG_ROOTS[n])


def test_every_consistency_proof_verifies_and_tampered_ones_do_not():
    rng = random.Random(9)
    for n in range(len(BIG) + 1):
        for m in range(n + 1):
            proof = consistency_proof(m, n, BIG)
            assert verify_consistency(m, n, BIG_ROOTS[m], BIG_ROOTS[n], proof), (m, n)
            if 0 < m < n:
                assert not verify_consistency(m, n, BIG_ROOTS[m - 1], BIG_ROOTS[n], proof)
                assert not verify_consistency(m, n, BIG_ROOTS[m], BIG_ROOTS[n - 1], proof)
                bad = list(proof)
                k = rng.randrange(len(bad))
                bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
                assert not verify_consistency(m, n, BIG_ROOTS[m], BIG_ROOTS[n], bad)
                assert not verify_consistency(m, n, BIG_ROOTS[m], BIG_ROOTS[n], proof[:-1])
                assert not verify_consistency(m, n, BIG_ROOTS[m], BIG_ROOTS[n], proof + [b"\xcd" * 32])


def test_degenerate_and_malformed_inputs_are_refused():
    assert not verify_consistency(4, 4, BIG_ROOTS[4], BIG_ROOTS[5], [])
    assert not verify_consistency(0, 8, BIG_ROOTS[1], BIG_ROOTS[8], [])
    assert not verify_consistency(6, 5, BIG_ROOTS[6], BIG_ROOTS[5], [])
    assert not verify_inclusion(BIG[0], 8, 8, [], BIG_ROOTS[8])
    assert not verify_inclusion(BIG[0][:31], 0, 1, [], BIG_ROOTS[1])
    with pytest.raises(ValueError):
        inclusion_proof(8, 8, BIG)
    with pytest.raises(ValueError):
        consistency_proof(5, 3, BIG)
    with pytest.raises(ValueError):
        inclusion_proof(0, 71, BIG)
