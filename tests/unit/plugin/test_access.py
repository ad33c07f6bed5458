"""Who may use which namespace: the option's parsing and the user's name, roles and groups."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from airflow_provider_scheduler.plugin.access import NamespaceAccess, NamespaceAccessError, Principal


@dataclass
class Role:
    name: str


@dataclass
class FabLikeUser:
    """The attributes FAB's user model has: ``username`` and ``roles`` (objects with a ``name``)."""

    username: str
    roles: list[Role] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def get_name(self) -> str:
        return self.username


class TestPrincipal:
    def test_simple_auth_manager_user(self) -> None:
        from airflow_provider_scheduler.plugin import api_supported

        if not api_supported():
            pytest.skip("SimpleAuthManagerUser is Airflow 3")
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        principal = Principal.of(SimpleAuthManagerUser(username="alice", role="user"))
        assert principal == Principal("alice", frozenset({"user"}), frozenset())
        assert principal.matches("role:USER")
        assert principal.matches("alice")
        assert not principal.matches("Alice")

    def test_fab_like_user_roles_and_groups(self) -> None:
        principal = Principal.of(FabLikeUser("bob", [Role("Op"), Role("analysts")], ["qa"]))
        assert principal.matches("role:op")
        assert principal.matches("role:Analysts")
        assert principal.matches("group:QA")
        assert not principal.matches("group:analysts")
        assert not principal.matches("role:")
        assert principal.matches("*")


class TestNamespaceAccess:
    def test_empty_is_unrestricted(self) -> None:
        access = NamespaceAccess.parse("  ")
        assert not access.restricted
        assert access.allows(Principal("x", frozenset(), frozenset()), "anything")

    def test_listed_star_and_closed(self) -> None:
        access = NamespaceAccess.parse('{"a": ["alice"], "*": ["role:admin"]}')
        alice = Principal("alice", frozenset({"user"}), frozenset())
        admin = Principal("root", frozenset({"admin"}), frozenset())
        assert access.allows(alice, "a")
        assert not access.allows(alice, "b")
        assert access.allows(admin, "b")
        assert not access.allows(admin, "a")  # a listed namespace names its users; "*" is for the rest
        closed = NamespaceAccess.parse('{"a": ["alice"]}')
        assert not closed.allows(admin, "b")
        assert closed.allows_unlisted(admin) is False
        assert access.allows_unlisted(admin) is True

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ("{nope", "is not valid JSON"),
            ('["alice"]', "must be a JSON object"),
            ('{"a": "alice"}', "the entry for 'a' must be a list"),
            ('{"a": ["role:"]}', "'role:' without a name"),
            ('{"a": [""]}', "the entry for 'a' must be a list"),
        ],
    )
    def test_malformed_option_says_what(self, raw: str, message: str) -> None:
        with pytest.raises(NamespaceAccessError, match=message) as info:
            NamespaceAccess.parse(raw)
        assert "[schedule_specs] namespace_access" in str(info.value)
