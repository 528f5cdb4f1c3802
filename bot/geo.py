"""A shared location → the nearest municipality of the region (or None when far outside)."""

from __future__ import annotations

import math

from bot.knowledge import KnowledgeBase, Municipality
from bot.settings import setting

MAX_DISTANCE_KM = setting("max_distance")


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest_municipality(kb: KnowledgeBase, lat: float, lon: float) -> Municipality | None:
    best: tuple[float, Municipality] | None = None
    for m in kb.municipalities.values():
        if m.coordinates is None:
            continue
        d = distance_km((lat, lon), m.coordinates)
        if best is None or d < best[0]:
            best = (d, m)
    return best[1] if best and best[0] <= MAX_DISTANCE_KM else None


def nearest_place(kb: KnowledgeBase, lat: float, lon: float) -> str | None:
    """The name of the nearest municipality, ready to be passed to the engine as a reply."""
    m = nearest_municipality(kb, lat, lon)
    return m.name if m else None
