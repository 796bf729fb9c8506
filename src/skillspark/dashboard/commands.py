"""`skillspark dashboard`: watch explore and eval runs in a browser, safe by default."""

from __future__ import annotations
