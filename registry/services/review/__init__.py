"""The national unit's review, one use case a module:

- `queue`: the queue of suspected duplicates, clustered and explained (`registry.matching.explain`), with
  the identities side by side for the purpose "deduplication-review"; a batch run's pairs are stored here;
- `decisions`: `merge_pair`, `merge_children`, `reject_pair`, `undo_merge`, `undo_rejection`;
- `automatic`: a batch run's decisions (same child merged automatically, possible queued, different
  dropped) and `auto_merge`, the reviewer's command for the same;
- `lineage`: a child's merge history;
- `labels`: the model measured against the reviewers' decisions.

The golden identity's rules are `registry.identity.survivorship`; the tables `registry.store.tables.review`.
"""
