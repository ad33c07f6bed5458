"""A minimal TemplateCatalog for tests (no templates package)."""

from __future__ import annotations


class Stub:
    """A catalog with one task template, "noop", usable in namespace "qa" only."""

    def __init__(self, entry):
        self.entry = entry

    def get(self, name):
        return self.entry if name == "noop" else None

    def get_notifier(self, name):
        return None

    def names(self):
        return ["noop"]

    def notifier_names(self):
        return []

    def why_not_allowed(self, name, namespace=None):
        return None if namespace in (None, "qa") else f"not in {namespace}"

    def allowed_names(self, namespace=None, *, notifiers=False):
        return [] if notifiers or namespace not in (None, "qa") else ["noop"]
