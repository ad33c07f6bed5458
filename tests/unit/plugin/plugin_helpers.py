"""Test data of the portal API tests: users, the namespace mapping, a spec document."""

from __future__ import annotations

from typing import Any

NAMESPACE_ACCESS = {"team-a": ["alice", "role:admin"], "team-b": ["bob", "role:admin"], "*": ["role:admin"]}
USERS = {"viewer": "viewer", "alice": "user", "bob": "user", "admin": "admin", "nobody": None}


def spec_doc(namespace: str = "team-a", name: str = "daily", **overrides: Any) -> dict[str, Any]:
    """A valid spec document (one ``empty`` task, manual schedule)."""
    doc: dict[str, Any] = {
        "version": 1,
        "namespace": namespace,
        "name": name,
        "description": "A test schedule",
        "schedule": None,
        "start_date": "2026-01-01",
        "tasks": [{"id": "noop", "template": "empty"}],
    }
    doc.update(overrides)
    return doc
