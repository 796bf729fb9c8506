"""Errors of the LLM layer. All are user-fixable conditions (endpoint, key, budget), so they are
`UserError`s: the CLI prints them as one line and exits 2; a run loop may catch them to stop cleanly."""

from __future__ import annotations

from skillspark.errors import UserError


class LLMUnavailable(UserError):
    """The model could not be reached or refused us after the last retry (message is redacted, one line)."""


class AuthenticationFailed(UserError):
    """The endpoint answered 401/403: the key is wrong for every call, so a run stops instead of going on.

    Not an `LLMUnavailable`: the paths that carry on past an unavailable summarizer or distiller (keeping
    the previous memo, assembling the skill from evidence) must not carry on past a wrong key.
    """

    @classmethod
    def recorded(cls, exception_type: str | None, message: str | None) -> AuthenticationFailed | None:
        """The error again where a Harbor trial recorded it (by type name) for the agent inside, else None."""
        if exception_type != cls.__name__:
            return None
        return cls(message or "authentication failed at the model endpoint; check the API key variable")


class BudgetExceeded(UserError):
    """The run-level cost budget is spent; raised before a new call is made."""
