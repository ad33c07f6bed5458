"""Fan-out for ``for_each`` tasks: Airflow dynamic task mapping with ``{{ item }}`` in ``with``.

A ``for_each`` task is built as ``OperatorClass.partial(**arguments).expand(for_each_item=items)``
(:func:`mapped_maker`), one mapped task instance per item. ``OperatorClass`` is a subclass of the
template's operator (:func:`for_each_class`, same name and template fields) that takes the one extra
argument ``for_each_item`` and, when Airflow renders the instance's template fields, puts it into
the Jinja context as ``item``. So the factory substitutes nothing: the spec's strings reach Airflow
as written and Airflow's own Jinja renders ``{{ item }}`` per instance, like ``{{ ds }}``. The item
itself is data, never rendered (it is not a template field).

A list from a param (``for_each: "{{ params.regions }}"``) is known only when a run starts: the
small step :class:`ForEachItemsOperator` (task ``<id>__items``) reads it from the run's params,
checks it (at most ``[schedule_specs] max_map_length`` items, each a string, number, true/false or
flat object) and returns it; the mapped task expands over that XCom.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from airflow_provider_scheduler.spec.model import item_refusal

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.providers.common.compat.sdk import Context

#: the keyword argument the mapped operator expands over
ITEM_ARGUMENT = "for_each_item"
#: the label of each mapped task instance in Airflow's UI (instead of 0, 1, 2, ...): the item, an
#: object item as JSON
MAP_INDEX_TEMPLATE = "{{ item if item is string else item | tojson }}"


@functools.cache  # one subclass per operator class, not one per task
def for_each_class(base: type[BaseOperator]) -> type[BaseOperator]:
    """A subclass of ``base`` that takes ``for_each_item`` and renders with ``item`` in the context.

    It keeps ``base``'s name, module and template fields, so the DAG looks as it would with
    ``base`` (the task's type in the UI is the template's operator).
    """

    class ForEach(base):  # type: ignore[valid-type,misc]
        def __init__(self, *, for_each_item: Any = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.for_each_item = for_each_item

        def _do_render_template_fields(
            self, parent: Any, template_fields: Any, context: Any, jinja_env: Any, seen_oids: Any
        ) -> None:
            # Airflow calls this on the unmapped instance with the instance's context (2.11 and 3.x)
            context["item"] = self.for_each_item
            super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)

        def render_template(
            self, content: Any, context: Any, jinja_env: Any = None, seen_oids: Any = None
        ) -> Any:
            context["item"] = self.for_each_item
            return super().render_template(content, context, jinja_env, seen_oids)

    ForEach.__name__ = base.__name__
    ForEach.__qualname__ = base.__qualname__
    ForEach.__module__ = base.__module__
    ForEach.__doc__ = base.__doc__
    return ForEach


def mapped_maker(items: Any) -> Callable[..., Any]:
    """The ``make`` a mappable template's builder gets for a ``for_each`` task.

    :param items: the literal list of items, or the ``XComArg`` of the task's list step.
    """

    def make(operator_class: type[BaseOperator], /, **kwargs: Any) -> Any:
        kwargs.setdefault("map_index_template", MAP_INDEX_TEMPLATE)
        partial = for_each_class(operator_class).partial(**kwargs)
        return partial.expand(**{ITEM_ARGUMENT: items})

    return make


class ForEachItemsOperator(BaseOperator):
    """The list step of a ``for_each`` over a param: returns the run's list for the mapped task.

    :param param: the param's name (``for_each: "{{ params.<param> }}"``).
    :param max_length: ``[schedule_specs] max_map_length`` when the DAG was built.
    :return: (XCom) the list; the task fails, naming the cap or the item, when it cannot fan out.
    """

    ui_color = "#eeeeee"

    def __init__(self, *, param: str, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.param = param
        self.max_length = max_length

    def execute(self, context: Context) -> list[Any]:
        params = context["params"]
        value = params.get(self.param)
        problem = items_problem(value, self.param, self.max_length)
        if problem or not isinstance(value, (list, tuple)):
            raise AirflowException(problem)
        self.log.info("for_each over params.%s: %d item(s)", self.param, len(value))
        return list(value)


def items_problem(value: Any, param: str, max_length: int) -> str | None:
    """Why a run's ``params.<param>`` cannot be fanned out over (None: it can)."""
    if not isinstance(value, (list, tuple)):
        return f"params.{param} must be a list to fan out over (for_each), not {type(value).__name__}"
    if len(value) > max_length:
        return (
            f"params.{param} lists {len(value)} items; for_each fans out over at most {max_length} "
            "([schedule_specs] max_map_length): trigger the run with a shorter list"
        )
    for i, item in enumerate(value):
        why = item_refusal(item)
        if why:
            return f"params.{param}[{i}] {why}"
    return None
