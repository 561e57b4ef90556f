"""Review and merge for the national unit (issue 7).

Public face, one concept a module:
- `queue.review_queue` / `queue.get_pair`: the queue of suspected duplicates, clustered and explained
  (`explain`), with the identities side by side for the purpose "deduplication-review";
- `decisions`: `merge_pair`, `merge_children`, `reject_pair`, `undo_merge`, `auto_merge`;
- `survivorship.golden_identity`: the golden identity's rules; `lineage.lineage`: a child's merge history;
- `labels.evaluate_labels`: the model measured against the reviewers' decisions;
- `tables`: labels, merges, merge moves, golden choices. `cli.review_app`: `registry review ...`.

Imports nothing itself: the store imports `review.tables` while it is being set up.
"""
