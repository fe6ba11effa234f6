"""The SQL layer on its own: splitting, placeholders, facts, and never raising."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pinlint.model import HOLE
from pinlint.sql.facts import cursor_declaration, set_command, set_config_calls, temp_object
from pinlint.sql.lexer import Kind, tokenize
from pinlint.sql.statement import analyse, split_sql


def test_split_respects_strings_comments_and_dollar_quotes() -> None:
    text = "SELECT ';'; -- ; not here\nDO $x$ BEGIN PERFORM 1; END $x$; SELECT 2"
    parts = [text[a:b] for a, b in split_sql(text)]
    assert parts == ["SELECT ';'", "DO $x$ BEGIN PERFORM 1; END $x$", "SELECT 2"]


def test_placeholders_are_params_not_operators() -> None:
    kinds = [t.kind for t in tokenize("SELECT %s, %(n)s, $1, :name, ?, x::int, " + HOLE)]
    assert kinds.count(Kind.PARAM) == 6


def test_hole_in_set_value_is_still_a_set() -> None:
    (stmt,) = analyse(f"SET search_path TO {HOLE}")
    cmd = set_command(stmt)
    assert cmd is not None and cmd.parameter == "search_path" and cmd.scope == "session"


def test_set_config_arguments_from_tree_and_tokens_agree() -> None:
    parsed = analyse("SELECT set_config('a.b', %s, false)")[0]
    rejected = analyse("SELECT set_config('a.b', %s, false) FROM WHERE")[0]
    assert parsed.parse_error is None and rejected.parse_error is not None
    assert (
        [v for _, v in set_config_calls(parsed)]
        == [v for _, v in set_config_calls(rejected)]
        == [False]
    )


def test_facts_on_look_alikes() -> None:
    assert set_command(analyse("UPDATE t SET a = 1")[0]) is None
    assert (
        cursor_declaration(analyse("DO $$ DECLARE c CURSOR FOR SELECT 1; BEGIN END $$")[0]) is None
    )
    assert temp_object(analyse("CREATE TABLE temp (a int)")[0]) is None
    assert temp_object(analyse("SELECT a INTO temp_x FROM t")[0]) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_analysis_never_raises_on_arbitrary_text(text: str) -> None:
    for stmt in analyse(text):
        set_command(stmt)
        set_config_calls(stmt)
        temp_object(stmt)
        cursor_declaration(stmt)


SQL_ALPHABET = st.sampled_from(
    [
        "SET",
        "LOCAL",
        "'",
        '"',
        "$$",
        "$1",
        "%s",
        "--",
        "/*",
        "*/",
        ";",
        "(",
        ")",
        ",",
        "DECLARE",
        "CURSOR",
        "WITH",
        "HOLD",
        "set_config",
        "nextval",
        "TEMP",
        "CREATE",
        "INTO",
        " ",
        "\n",
        "E'\\'",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(SQL_ALPHABET, max_size=40).map("".join))
def test_analysis_never_raises_on_sql_like_text(text: str) -> None:
    test_analysis_never_raises_on_arbitrary_text.hypothesis.inner_test(text)  # type: ignore[attr-defined]
