"""skillspark.train: train a policy on skills (GRPO, SDAR, Skill-SD, OPSD, RLSD).

The Python API is `service.train_policy(TrainConfig(...))` (also `skillspark.train_policy`); the package
itself imports nothing, so `import skillspark.train.config` stays free of torch.
"""
