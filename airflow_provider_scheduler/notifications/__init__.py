"""Airflow notifiers used by the notification templates (``webhook``).

Spec ``notify`` entries become callbacks in the factory (``factory/callbacks.py``).
"""
