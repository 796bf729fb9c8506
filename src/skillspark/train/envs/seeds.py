"""The two disjoint game-seed ranges: training games are drawn from one, validation games are the start of
the other. Kept below the game registry so a game (codeword's held-out rules) can tell which side a seed is
on without importing the manifest, which imports the registry, which imports the games."""

TRAINING_SEEDS = range(0, 1_000_000_000)
VALIDATION_SEEDS = range(2_000_000_000, 2_001_000_000)
