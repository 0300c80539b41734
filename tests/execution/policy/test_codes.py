"""The code table: docs/checks.md lists exactly the CheckCode enum, with the HTTP status its kind gives."""

from __future__ import annotations

from pathlib import Path

from propdesk.execution.policy.codes import ACTION_CHECKS, HTTP_STATUS, ORDER_REFUSAL, RULE_CHECKS, CheckCode

DOC = Path(__file__).resolve().parents[3] / "docs" / "checks.md"


def documented() -> dict[str, tuple[str, str]]:
    """Each code in the docs' code table with its /api/v1 and /v2 statuses."""
    text = DOC.read_text()
    section = text.split("\n## Codes\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            code = cells[0].strip("`")
            assert code not in rows, f"{code} is listed twice"
            rows[code] = (cells[3], cells[4])
    return rows


def test_the_docs_table_lists_exactly_the_enum() -> None:
    assert sorted(documented()) == sorted(c.value for c in CheckCode)


def test_the_docs_table_gives_each_code_the_status_of_its_kind() -> None:
    for code, statuses in documented().items():
        kind = ORDER_REFUSAL.get(CheckCode(code))
        expected = "—" if kind is None else str(HTTP_STATUS[kind])
        assert statuses == (expected, expected), code


def test_every_code_is_run_by_some_door() -> None:
    assert set(ACTION_CHECKS) | set(RULE_CHECKS) | set(ORDER_REFUSAL) == set(CheckCode)
    assert set(RULE_CHECKS) == {c for c in CheckCode if c.value.startswith("rule:")}
