"""What modules export, kept in the cache between runs (`ProjectIndex.reached` with a
store): used while the module is unchanged and every module it consulted still
exports the same; computed anew otherwise, never wrong and never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checking import cli_codes

from pinlint.cache import Cache
from pinlint.project import ProjectIndex, Reached

WRAPPER = "def run(sql):\n    CUR.execute(sql)\n"
NOT_A_WRAPPER = "def run(sql):\n    return sql.strip()\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "db.py").write_text(WRAPPER)
    (tmp_path / "middle.py").write_text("from db import run\n\ndef go(q):\n    return run(q)\n")
    (tmp_path / "use.py").write_text("from middle import go\ngo('SET a = 1')\n")
    return tmp_path


def index(tree: Path) -> ProjectIndex:
    project = ProjectIndex.for_paths([tree], sorted(tree.glob("*.py")))
    project.store = Cache(tree, "test")
    return project


def computed(project: ProjectIndex, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The modules whose answer `project` computes anew (not from the store)."""
    names: list[str] = []
    original = ProjectIndex._reach

    def spy(self: ProjectIndex, path: Path, depth: int) -> Reached:
        names.append(path.name)
        return original(self, path, depth)

    monkeypatch.setattr(ProjectIndex, "_reach", spy)
    return names


def test_a_kept_answer_is_used_while_it_holds(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = index(tree).reached(tree / "middle.py")
    assert set(first.exports) == {"go", "run"}  # a wrapper, and a re-export
    anew = computed(index(tree), monkeypatch)
    again = index(tree)
    assert again.reached(tree / "middle.py") == first
    assert anew == []


def test_an_edit_that_keeps_the_exports_keeps_the_importers(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index(tree).reached(tree / "middle.py")
    (tree / "db.py").write_text("# the same wrapper\n" + WRAPPER)
    project = index(tree)
    anew = computed(project, monkeypatch)
    found = project.reached(tree / "middle.py")
    assert anew == ["db.py"]
    assert set(found.exports) == {"go", "run"}
    # ... and what a file using the answer depends on names db.py's new content.
    assert any(p.endswith("db.py") for p, _ in found.dependencies)
    assert found == ProjectIndex.for_paths([tree], []).reached(tree / "middle.py")


def test_an_edit_that_changes_the_exports_changes_the_importers(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "go" in index(tree).reached(tree / "middle.py").exports
    (tree / "db.py").write_text(NOT_A_WRAPPER)
    project = index(tree)
    anew = computed(project, monkeypatch)
    assert project.reached(tree / "middle.py").exports == {}
    assert sorted(anew) == ["db.py", "middle.py"]
    (tree / "db.py").write_text(WRAPPER)  # and back
    assert "go" in index(tree).reached(tree / "middle.py").exports


def test_an_import_cycle_gives_what_a_fresh_run_gives(tree: Path) -> None:
    """In a cycle the module asked second sees nothing of the first (as before): a
    kept answer must be what a fresh run asking in the same order gives, whatever
    order the run that kept it asked in."""
    (tree / "a.py").write_text(
        "import b\n\ndef one(sql):\n    CUR.execute(sql)\n\ndef two(q):\n    return b.three(q)\n"
    )
    (tree / "b.py").write_text("import a\n\ndef three(q):\n    return a.one(q)\n")
    orders = [("a.py", "b.py"), ("b.py", "a.py"), ("a.py",), ("b.py",)]
    for keeping in orders:
        for name in keeping:
            index(tree).reached(tree / name)
        for order in orders:
            kept, fresh = index(tree), ProjectIndex.for_paths([tree], [])
            assert [kept.reached(tree / n) for n in order] == [
                fresh.reached(tree / n) for n in order
            ]


def test_answers_kept_for_two_orders_are_both_used(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of the whole tree and a pre-commit run ask in different orders; in a
    cycle their answers differ, and each run in turn must find its own."""
    (tree / "a.py").write_text("import b\n\ndef one(sql):\n    CUR.execute(sql)\n")
    (tree / "b.py").write_text("import a\n\ndef three(q):\n    return a.one(q)\n")
    for order in (("a.py", "b.py"), ("b.py", "a.py")):
        kept = index(tree)
        for name in order:
            kept.reached(tree / name)
    for order in (("a.py", "b.py"), ("b.py", "a.py")):
        fresh = ProjectIndex.for_paths([tree], [])
        expected = [fresh.reached(tree / n) for n in order]
        project = index(tree)
        anew = computed(project, monkeypatch)
        assert [project.reached(tree / n) for n in order] == expected
        assert anew == []


@pytest.mark.parametrize(
    "payload",
    [
        {"exports": 5, "reach": None, "consulted": []},
        {"exports": {}, "reach": [[["x", 2, "def f(): pass"]], [], [], False], "consulted": []},
        {"exports": {}, "reach": [[], []], "consulted": []},
        {"exports": {}, "reach": None, "consulted": [[1, 2, 3]]},
        {"exports": {}, "reach": None},
        "not an object",
    ],
)
def test_a_damaged_kept_answer_is_computed_anew(tree: Path, payload: object) -> None:
    expected = index(tree).reached(tree / "middle.py")
    store = Cache(tree, "test")
    damaged = 0
    for entry in store.directory.rglob("*"):
        if not entry.is_file():
            continue
        data = json.loads(entry.read_bytes())
        for record in data["records"]:
            if isinstance(record["diagnostics"], dict):  # a kept answer, not a file's result
                record["diagnostics"] = payload
                damaged += 1
        entry.write_text(json.dumps(data))
    assert damaged >= 2
    assert index(tree).reached(tree / "middle.py") == expected


def test_a_file_follows_the_exports_of_the_modules_it_reaches(tree: Path) -> None:
    """End to end, with the cache: use.py calls db.run through middle.go."""

    def codes() -> list[str]:
        return cli_codes(tree, "use.py").get("use.py", [])

    assert codes() == ["PIN101"]
    (tree / "db.py").write_text(NOT_A_WRAPPER)
    assert codes() == []
    (tree / "db.py").write_text("# again\n" + WRAPPER)
    assert codes() == ["PIN101"]
    (tree / "middle.py").write_text("from db import run\n\ndef go(q):\n    return q\n")
    assert codes() == []
