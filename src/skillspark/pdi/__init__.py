"""skillspark.pdi: the Posterior Distillation Index, pure functions over text (no I/O but `commands`).

- `text`: tokenization and the similarity ψ (token_overlap, js_divergence)
- `memo`: memo sections (`section`, `parse_memo`, `is_valid_memo`, `without_next_strategy`) and failed
  tests (`failed_tests`, `attempt_failures`)
- `proxy`: the online proxy `ProxyTracker.step(...) -> PdiSnapshot`
- `log`, `replay`: reading SPARK trajectory records and recomputing their snapshots (`MemoTrail`: the
  memo guard, skillspark's one deliberate difference from SPARK)
- `trajectory`: trajectory-level PDI of distilled skills (`score_skills`)
- `commands`: `skillspark pdi replay` and `skillspark pdi score`
"""
