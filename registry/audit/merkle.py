"""The Merkle tree of the audit log, as in RFC 6962 / RFC 9162 section 2.1: pure functions, no database.

Everything here works on bytes. Leaves are hashed once (`hash_leaf`) and the other functions take the list of
leaf hashes, so that storage can keep leaf hashes and never rehash the entries themselves.

- MTH({}) = SHA-256() (the hash of the empty string)
- MTH({d0}) = SHA-256(0x00 || d0)                                     -> `hash_leaf`
- MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n  -> `hash_children`

The 0x00 / 0x01 prefixes separate leaves from interior nodes, so that no leaf can pose as a subtree.
Proof generation follows the RFC's recursive PATH and SUBPROOF definitions; proof verification follows the
iterative algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2. `Frontier` (the "compact range" of the whole
tree) gives the root of a growing tree from O(log n) stored hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def hash_leaf(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf): the hash of one log entry's bytes."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node from its two children's hashes."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2): where RFC 6962 splits a tree of n leaves."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves has no split")
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over the given leaf hashes (the root hash of the tree they form)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = split_point(n)
    return hash_children(root(leaf_hashes[:k]), root(leaf_hashes[k:]))


def inclusion_proof(index: int, size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[size]): the audit path proving leaf `index` is in the tree of the first `size` leaves."""
    if not 0 <= index < size <= len(leaf_hashes):
        raise ValueError(f"no leaf {index} in a tree of size {size} ({len(leaf_hashes)} leaves known)")
    return _path(index, leaf_hashes[:size])


def _path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return _path(m, d[:k]) + [root(d[k:])]
    return _path(m - k, d[k:]) + [root(d[:k])]


def consistency_proof(old_size: int, new_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, D[new_size]): proves the tree of `old_size` leaves is a prefix of the `new_size` tree.

    Empty when old_size is 0 or equals new_size (nothing to prove).
    """
    if not 0 <= old_size <= new_size <= len(leaf_hashes):
        raise ValueError(
            f"no consistency proof from {old_size} to {new_size} ({len(leaf_hashes)} leaves known)"
        )
    if old_size == 0 or old_size == new_size:
        return []
    return _subproof(old_size, leaf_hashes[:new_size], True)


def _subproof(m: int, d: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if complete else [root(d)]
    k = split_point(n)
    if m <= k:
        return _subproof(m, d[:k], complete) + [root(d[k:])]
    return _subproof(m - k, d[k:], False) + [root(d[:k])]


def _ok_hash(h: object) -> bool:
    return isinstance(h, bytes) and len(h) == HASH_SIZE


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """True when `proof` shows the leaf with hash `leaf_hash` at `index` in the tree of `size` with `root_hash`.

    RFC 9162 section 2.1.3.2, step by step.
    """
    if not (_ok_hash(leaf_hash) and _ok_hash(root_hash) and all(_ok_hash(p) for p in proof)):
        return False
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hash_children(p, r)  # p is the left sibling
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)  # p is the right sibling
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when `proof` shows the tree (old_size, old_root) is a prefix of (new_size, new_root).

    RFC 9162 section 2.1.4.2, step by step; the two degenerate cases (old_size 0, equal sizes) need an
    empty proof.
    """
    if not (_ok_hash(old_root) and _ok_hash(new_root) and all(_ok_hash(p) for p in proof)):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class Frontier:
    """The roots of the perfect subtrees that make up a tree, left to right (its "compact range").

    A tree of n leaves is the concatenation of perfect subtrees, one per set bit of n, largest first; appending
    merges equal-sized neighbours. The root is those subtree roots folded from the right with `hash_children`,
    which is exactly MTH with the RFC's largest-power-of-two split. O(log n) hashes kept, O(1) amortised per
    append: storage uses it to make checkpoints without reading the whole log.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a frontier of a tree of size {size} has {bin(size).count('1')} hashes")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf_hash: bytes) -> None:
        self.hashes.append(leaf_hash)
        self.size += 1
        # Each trailing one bit of the new size (after the lowest) is a merge of two equal subtrees.
        merges = (self.size & -self.size).bit_length() - 1
        for _ in range(merges):
            right = self.hashes.pop()
            left = self.hashes.pop()
            self.hashes.append(hash_children(left, right))

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = hash_children(h, r)
        return r

    def copy(self) -> Frontier:
        return Frontier(self.size, list(self.hashes))
