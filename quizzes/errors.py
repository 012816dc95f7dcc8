"""The errors the learning engine's services raise; the API turns them into its JSON error body."""

from __future__ import annotations

from config.api_errors import ApplicationError

__all__ = ["StudyError"]


class StudyError(ApplicationError):
    """A study operation was refused; ``code`` says why, ``message`` says it to the learner.

    Codes: ``token_invalid`` (tampered or not a token), ``token_expired``, ``token_wrong_learner``,
    ``token_wrong_card_version`` (the token does not match the item it names, or the card has
    been changed since it was shown), ``already_answered``, ``response_invalid``,
    ``reviewed_at_invalid``, ``duplicate_conflict`` (a client id reused with another payload),
    ``not_found``, ``settings_invalid``, ``limit_invalid`` (a prefetch size out of range),
    ``batch_invalid`` (an offline upload that is not a list of at most ``MAX_SYNC_BATCH``).
    ``not_found``, ``settings_invalid``; practice sessions: ``practice_size_invalid``,
    ``practice_time_limit_invalid``, ``practice_topics_invalid``, ``not_subscribed``,
    ``practice_no_cards``, ``practice_finished``, ``practice_time_up``.
    """

    def __init__(self, message: str, *, code: str, status_code: int = 400) -> None:
        super().__init__(message, code=code, status_code=status_code)
