"""Roles are a fixed set of values; the knowledge base spells them as plain strings."""

from __future__ import annotations

from bot.engine import Engine
from bot.roles import Role


def test_every_role_the_knowledge_base_uses_is_a_member(engine: Engine):
    kb = engine.kb
    used = {t.role for t in kb.topics.values() if t.role} | set(kb.language.role_cues)
    assert used and used <= set(Role)


def test_a_member_is_the_string_the_yaml_spells():
    assert Role.ROUTE_START == "route_start"
    assert f"role.{Role.BUSINESS_SITE}.name" == "role.business_site.name"
    assert {"residence": 1}[Role.RESIDENCE] == 1  # looks up string-keyed data
