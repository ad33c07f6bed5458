"""Task and notification templates: what a spec's ``template:`` may name, and how it becomes an operator.

Public API: :class:`TaskTemplate`, :class:`NotificationTemplate`, :class:`TemplateRegistry`,
:func:`default_registry` (built-ins + entry points + admin config; cached), :func:`register` and
:func:`set_default_version` (which version ``template: NAME`` without ``@`` means).
"""

from __future__ import annotations

from airflow_provider_scheduler.templates.registry import (
    ENTRY_POINT_GROUP,
    NotificationTemplate,
    TaskTemplate,
    TemplateRegistry,
    UnavailableTemplate,
    default_registry,
    load_entry_points,
    register,
    set_default_version,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "NotificationTemplate",
    "TaskTemplate",
    "TemplateRegistry",
    "UnavailableTemplate",
    "default_registry",
    "load_entry_points",
    "register",
    "set_default_version",
]
