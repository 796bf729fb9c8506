"""Where the example and compatibility tasks live, shared by the structure and oracle tests."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_TASKS = sorted(p for p in (REPO / "examples" / "tasks").iterdir() if (p / "task.toml").exists())
COMPAT_TASKS = sorted(p for p in (REPO / "examples" / "compat-tasks").iterdir() if (p / "task.toml").exists())
ALL_TASKS = EXAMPLE_TASKS + COMPAT_TASKS
DECISIVE_TASKS = sorted(p for p in (REPO / "examples" / "decisive-tasks").iterdir() if (p / "task.toml").exists())
