"""Text environments for training: one protocol (`base`), scripted `fake` games and TextWorld games
(`tw`), an action parser for small models (`actions`), specs (`spec`, `registry`) and fixed game sets
(`manifest`)."""
