"""What validation accepts, every store can hold and read back equal; what no store can hold is refused.

Run on SQLite and the file store by ``test_storable_text.py`` and on a real PostgreSQL server by
``tests/integration/store/test_storable_text_postgres.py``. Subclasses provide a ``store_uri`` fixture.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import pytest
from adversarial_cases import all_cases

from airflow_provider_scheduler.cli.deployment import registry_and_policy
from airflow_provider_scheduler.spec import ScheduleSpec, SpecError, parse_spec
from airflow_provider_scheduler.spec.loader import read_spec_file
from airflow_provider_scheduler.store import open_store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from airflow_provider_scheduler.store import ScheduleStore

ACCEPTED = [case for case in all_cases() if case.expected == "accepted"]

#: text accepted by validation that a store might mangle: control characters, line and paragraph
#: separators, BOM and non-characters, private use and the last code point, 4-byte characters,
#: combining marks, bidirectional controls, YAML- and JSON-looking text, CR LF
TEXTS = [
    "".join(chr(c) for c in range(1, 32)),
    "\x7f\x85\xa0\u2028\u2029",
    "\ufeff\ufffe\uffff",
    "\ue000\U000f0000\U0010ffff",
    "\U0001f600 e\u0301\u0301 \u202eabc\u202c \u200d\U0001f469\u200d\U0001f4bb",
    "a\r\nb\rc\n",
    " lead",
    "trail ",
    "--- x",
    "...",
    "# c",
    "k: v",
    "null",
    "true",
    "0x1",
    "1e3",
    "'q'",
    '"dq"',
    "\\",
    "\u05e9\u05dc\u05d5\u05dd \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
]


def _builtin() -> tuple[Any, Any]:
    return registry_and_policy(argparse.Namespace(builtin_defaults=True))


def text_spec(index: int, text: str) -> dict[str, Any]:
    """A spec with ``text`` in every kind of string a spec has (values and keys)."""
    return {
        "version": 1,
        "namespace": "storable",
        "name": f"text-{index}",
        "description": f"d{text}d",
        "owner": f"{text}o",
        "tags": [f"t{text}"],
        "schedule": None,
        "params": {"p": {"type": "string", "description": text, "enum": [text, "x"], "default": text}},
        "tasks": [
            {
                "id": "fire",
                "template": "trigger_dag",
                "with": {"dag_id": "target", "conf": {f"k{text}": text, "list": [text, {text: [text]}]}},
            }
        ],
    }


class StorableTextContract:
    #: corpus cases this backend is known to fail, with why (strict xfail: a fix makes them fail loudly)
    known_failures: dict[str, str] = {}

    @pytest.fixture
    def store(self, store_uri: str) -> Iterator[ScheduleStore]:
        store = open_store(store_uri)
        try:
            yield store
        finally:
            store.close()

    def read_back(self, store_uri: str, spec_id: str) -> dict[str, Any]:
        """The stored spec as a new store object reads it (nothing cached by the writer)."""
        with open_store(store_uri) as fresh:
            stored = fresh.get(spec_id)
            assert stored is not None
            return stored.spec

    @pytest.mark.parametrize("index", range(len(TEXTS)), ids=[ascii(t)[:40] for t in TEXTS])
    def test_accepted_text_round_trips(self, store: ScheduleStore, store_uri: str, index: int) -> None:
        registry, policy = _builtin()
        spec = parse_spec(text_spec(index, TEXTS[index]), catalog=registry, policy=policy)
        assert store.put(spec, author="t") == 1
        assert self.read_back(store_uri, spec.dag_id) == spec.to_dict()
        assert ScheduleSpec.from_canonical(self.read_back(store_uri, spec.dag_id)) == spec

    @pytest.mark.parametrize("case", ACCEPTED, ids=[case.name for case in ACCEPTED])
    def test_accepted_corpus_case_round_trips(
        self, store: ScheduleStore, store_uri: str, case: Any, tmp_path: Path, request: Any
    ) -> None:
        if case.name in self.known_failures:
            request.applymarker(pytest.mark.xfail(strict=True, reason=self.known_failures[case.name]))
        registry, policy = _builtin()
        specs = read_spec_file(case.write(tmp_path / "in"), catalog=registry, policy=policy)
        assert not [s for s in specs if isinstance(s, SpecError)]
        store.put_many(specs, author="t")
        with open_store(store_uri) as fresh:
            stored = {s.id: s.spec for s in fresh.list()}
        assert stored == {s.dag_id: s.to_dict() for s in specs if isinstance(s, ScheduleSpec)}

    @pytest.mark.parametrize("bad", ["a\ud800b", "a\x00b", "\udfff", "\ud83d\ude00"])
    def test_unstorable_text_is_refused_and_nothing_is_lost(
        self, store: ScheduleStore, store_uri: str, bad: str
    ) -> None:
        registry, policy = _builtin()
        good = parse_spec(text_spec(0, "fine"), catalog=registry, policy=policy)
        store.put(good, author="t")
        for where in ("description", "key"):
            spec = text_spec(0, "fine")
            if where == "description":
                spec["description"] = bad
            else:
                spec["tasks"][0]["with"]["conf"] = {bad: 1}
            with pytest.raises(SpecError):
                store.put(spec, author="t")
        with open_store(store_uri) as fresh:
            assert [(s.id, s.revision, s.spec) for s in fresh.list()] == [(good.dag_id, 1, good.to_dict())]
