"""The live dashboard (`skillspark dashboard`): runs read from disk, served by FastAPI to one static page.

Modules: `commands` (the CLI and `--dashboard`), `app` (routes), `security` (the guards), `runs` (finding
runs, explore/SPARK task rows and pages), `evalview` (eval grid and statistics), `skills` (skills and their
PDI), `tail` + `digest` (reading growing logs), `events` (SSE), `launch` (actions). The page is `static/`.
"""
