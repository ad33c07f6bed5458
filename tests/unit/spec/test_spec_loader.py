"""Safe spec files: YAML/JSON, one spec or a list, tags/aliases refused, size checked before parsing."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_scheduler.spec import GovernancePolicy, SpecError, load_spec_file
from airflow_provider_scheduler.spec.files import find_spec_files
from airflow_provider_scheduler.spec.loader import parse_document, read_spec_file

if TYPE_CHECKING:
    from pathlib import Path

MINIMAL = """\
version: 1
namespace: qa
name: {name}
schedule: "@daily"
start_date: 2026-01-01
tasks:
  - id: a
    template: empty
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def problems_of(err: SpecError) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in err.problems]


class TestLoadSpecFile:
    def test_yaml_one_spec(self, tmp_path, registry, policy):
        specs = load_spec_file(
            write(tmp_path, "a.yaml", MINIMAL.format(name="one")), registry=registry, policy=policy
        )
        assert [s.dag_id for s in specs] == ["qa.one"]
        assert specs[0].to_dict()["start_date"] == "2026-01-01"  # unquoted YAML date stays a date string

    def test_yaml_list(self, tmp_path, registry, policy):
        text = "- " + MINIMAL.format(name="one").replace("\n", "\n  ").rstrip() + "\n"
        text += "- " + MINIMAL.format(name="two").replace("\n", "\n  ").rstrip() + "\n"
        specs = load_spec_file(write(tmp_path, "a.yml", text), registry=registry, policy=policy)
        assert [s.dag_id for s in specs] == ["qa.one", "qa.two"]

    def test_json(self, tmp_path, registry, policy, valid):
        specs = load_spec_file(
            write(tmp_path, "a.json", json.dumps([valid])), registry=registry, policy=policy
        )
        assert specs[0].dag_id == "analytics.daily-orders"

    def test_problems_in_a_list_are_prefixed_with_the_index(self, tmp_path, registry, policy, valid):
        bad = dict(valid, name="Bad")
        path = write(tmp_path, "a.json", json.dumps([valid, bad]))
        with pytest.raises(SpecError) as info:
            load_spec_file(path, registry=registry, policy=policy)
        assert info.value.source == str(path)
        assert [p for p, _ in problems_of(info.value)] == ["[1].name"]
        results = read_spec_file(path, registry=registry, policy=policy)
        assert results[0].dag_id == "analytics.daily-orders"
        assert isinstance(results[1], SpecError)

    def test_single_spec_error_has_spec_id_and_source(self, tmp_path, registry, policy):
        path = write(
            tmp_path, "a.yaml", MINIMAL.format(name="one").replace("template: empty", "template: nope")
        )
        with pytest.raises(SpecError) as info:
            load_spec_file(path, registry=registry, policy=policy)
        assert info.value.spec_id == "qa.one"
        assert info.value.source == str(path)
        assert info.value.problems[0].path == "tasks[0].template"

    def test_yes_no_stay_strings(self):
        assert parse_document("a: yes\nb: no\nc: on\nd: true\n") == {
            "a": "yes",
            "b": "no",
            "c": "on",
            "d": True,
        }


class TestRefused:
    def test_python_tag(self, tmp_path, registry, policy):
        text = MINIMAL.format(name="x") + 'description: !!python/object/apply:os.system ["echo pwned"]\n'
        with pytest.raises(SpecError) as info:
            load_spec_file(write(tmp_path, "a.yaml", text), registry=registry, policy=policy)
        assert problems_of(info.value) == [
            (
                "",
                "YAML tags such as 'tag:yaml.org,2002:python/object/apply:os.system' are not allowed "
                "in specs; "
                "a spec is plain data (strings, numbers, true/false, lists, objects) (line 9, column 14)",
            )
        ]

    @pytest.mark.parametrize(
        "tag", ["!!binary aGVsbG8=", "!!set {a, b}", "!custom x", "!!timestamp 2026-01-01"]
    )
    def test_other_tags(self, tag):
        with pytest.raises(SpecError) as info:
            parse_document(f"a: {tag}\n")
        assert info.value.problems[0].message.startswith("YAML tags such as ")

    def test_alias(self):
        with pytest.raises(SpecError) as info:
            parse_document("a: &x [1, 2]\nb: *x\n")
        assert (
            info.value.problems[0].message
            == "YAML anchors (&name) are not allowed in specs (line 1, column 4)"
        )

    def test_duplicate_key(self):
        with pytest.raises(SpecError) as info:
            parse_document("name: a\nname: b\n")
        assert info.value.problems[0].message == "duplicate key 'name' (line 2, column 1)"

    def test_duplicate_json_key(self):
        with pytest.raises(SpecError) as info:
            parse_document('{"name": "a", "name": "b"}', source="x.json")
        assert info.value.problems[0].message == "not valid JSON: duplicate key 'name'"

    def test_nan_in_json(self):
        with pytest.raises(SpecError, match="NaN is not allowed in specs"):
            parse_document('{"a": NaN}', source="x.json")

    def test_no_env_expansion(self, monkeypatch):
        monkeypatch.setenv("SECRET", "s3cr3t")
        assert parse_document("a: ${SECRET}\nb: $SECRET\n") == {"a": "${SECRET}", "b": "$SECRET"}

    def test_bad_yaml(self):
        with pytest.raises(SpecError) as info:
            parse_document("a: [1, 2\n")
        assert info.value.problems[0].message.startswith("not valid YAML: ")

    def test_scalar_file(self, tmp_path):
        with pytest.raises(SpecError) as info:
            load_spec_file(write(tmp_path, "a.yaml", "just text\n"))
        assert problems_of(info.value) == [
            ("", "a spec file must hold a spec (an object) or a list of specs")
        ]

    def test_not_utf8(self, tmp_path):
        with pytest.raises(SpecError) as info:
            load_spec_file(write(tmp_path, "a.yaml", b"\xff\xfe a: 1"), policy=GovernancePolicy())
        assert info.value.problems[0].message.startswith("the file is not UTF-8 text")

    def test_ten_megabyte_document_refused_before_parsing(self, tmp_path, registry):
        text = MINIMAL.format(name="big") + "description: '" + "x" * (10 * 1024 * 1024) + "'\n"
        path = write(tmp_path, "big.yaml", text)
        started = time.perf_counter()
        with pytest.raises(SpecError) as info:
            load_spec_file(path, registry=registry, policy=GovernancePolicy())
        elapsed = time.perf_counter() - started
        assert problems_of(info.value) == [
            ("", f"the file is too large ({path.stat().st_size} bytes; at most 1048576 bytes per spec file)")
        ]
        print(f"10 MB document refused in {elapsed * 1000:.1f} ms")

    def test_missing_file(self, tmp_path):
        with pytest.raises(SpecError) as info:
            load_spec_file(tmp_path / "nope.yaml", policy=GovernancePolicy())
        assert problems_of(info.value) == [("", "cannot read the file: No such file or directory")]


def test_find_spec_files(tmp_path):
    write(tmp_path, "b.yaml", "")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "a.json", "")
    write(tmp_path, "notes.txt", "")
    assert [p.name for p in find_spec_files([tmp_path])] == ["b.yaml", "a.json"]
