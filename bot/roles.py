"""The roles a place plays for the asker: a fixed set of values, as the knowledge base spells them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A StrEnum equals its value: YAML data and stored answers keep plain strings."""

    RESIDENCE = "residence"
    BUSINESS_SITE = "business_site"
    PROPERTY = "property"
    """Land or a building one owns."""
    ROUTE_START = "route_start"
    """Where a journey or transport starts."""
    SITE = "site"
    """Where something is built or done (a building plot, a tree to fell)."""
    EVENT_PLACE = "event_place"
