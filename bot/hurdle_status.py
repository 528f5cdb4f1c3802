"""Where a hurdle stands in the staff's review: a fixed set of values."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    IN_REVIEW = "in_review"
    ANSWERED_BY_UPDATE = "answered_by_update"
    """The knowledge base now answers it (taught, or a topic was added)."""
    FORWARDED = "forwarded"
    """Passed on to the authority or body that can remove it."""
    NOT_A_HURDLE = "not_a_hurdle"


OPEN = (Status.NEW, Status.IN_REVIEW)
"""Hurdles still waiting for the staff; the others have been dealt with one way or another."""
