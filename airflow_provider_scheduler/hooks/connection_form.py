"""The classic connection form of the ``scheduler`` connection (Airflow 2.11, 3.0, 3.1), from ``CONN_FIELDS``.

``flask_appbuilder``, ``wtforms`` and ``flask_babel`` are imported inside :func:`form_widgets`: they exist
only where the classic UI runs, and Airflow 3.0/3.1 call the hook's classmethod with them mocked.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.rest.connection_fields import CONN_FIELDS, UI_FIELD_BEHAVIOUR

if TYPE_CHECKING:
    from collections.abc import Callable


def form_widgets() -> dict[str, Any]:
    """The wtforms fields of the connection's ``extra``, one per ``CONN_FIELDS`` entry.

    Airflow 2.11 accepts only ``StringField``, ``PasswordField``, ``IntegerField`` and
    ``BooleanField`` (any other class drops the whole hook), so an ``enum`` becomes a text field with
    an ``any_of`` validator and a ``number`` a text field with a range validator.
    """
    # ``any_of`` (not ``AnyOf``): Airflow 3.0/3.1 render the form by calling this method with
    # wtforms mocked, and recognise enums only through a mocked ``any_of``.
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, IntegerField, PasswordField, StringField
    from wtforms.validators import NumberRange, Optional, ValidationError, any_of

    def number_between(minimum: float | None, maximum: float | None) -> Callable[[Any, Any], None]:
        def check(form: Any, form_field: Any) -> None:
            try:
                value = float(form_field.data)
            except (TypeError, ValueError):
                raise ValidationError("Enter a number.") from None
            low = -math.inf if minimum is None else minimum
            high = math.inf if maximum is None else maximum
            if not low <= value <= high:
                raise ValidationError(f"Enter a number between {low:g} and {high:g}.")

        return check

    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        schema = spec["schema"]
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        kind = next((t for t in types if t != "null"), "string")
        common: dict[str, Any] = {"description": spec.get("description", "")}
        if schema.get("default") is not None:
            common["default"] = schema["default"]
        label = lazy_gettext(spec["label"])
        if "enum" in schema:
            choices = [value for value in schema["enum"] if value is not None]
            widgets[name] = StringField(
                label,
                widget=BS3TextFieldWidget(),
                validators=[Optional(), any_of(choices)],
                **common,
            )
        elif kind == "boolean":
            widgets[name] = BooleanField(label, **common)
        elif kind == "integer":
            widgets[name] = IntegerField(
                label,
                widget=BS3TextFieldWidget(),
                validators=[
                    Optional(),
                    NumberRange(min=schema.get("minimum"), max=schema.get("maximum")),
                ],
                **common,
            )
        elif kind == "number":
            if "default" in common:  # a text field: its default is text too
                common["default"] = f"{common['default']:g}"
            widgets[name] = StringField(
                label,
                widget=BS3TextFieldWidget(),
                validators=[Optional(), number_between(schema.get("minimum"), schema.get("maximum"))],
                **common,
            )
        elif schema.get("format") == "password":
            widgets[name] = PasswordField(label, widget=BS3PasswordFieldWidget(), **common)
        else:
            widgets[name] = StringField(label, widget=BS3TextFieldWidget(), **common)
    return widgets


def ui_field_behaviour() -> dict[str, Any]:
    """The classic UI's field behaviour (snake-case keys), from ``UI_FIELD_BEHAVIOUR``."""
    return {key.replace("-", "_"): json.loads(json.dumps(value)) for key, value in UI_FIELD_BEHAVIOUR.items()}
