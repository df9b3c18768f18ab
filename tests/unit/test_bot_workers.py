"""bot.py --worker I/N: which worker this is, and what it refuses."""

from __future__ import annotations

import pytest

from bot import Worker, parse_worker


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], Worker(0, 1)),
        (["--check"], Worker(0, 1)),
        (["--worker", "0/3"], Worker(0, 3)),
        (["--worker", "2/3", "--check"], Worker(2, 3)),
        (["--worker", "3/3"], None),
        (["--worker", "0/0"], None),
        (["--worker", "1/65"], None),
        (["--worker", "x"], None),
        (["--worker", "-1/3"], None),
        (["--worker"], None),
    ],
)
def test_parse_worker(argv: list[str], expected: Worker | None) -> None:
    assert parse_worker(argv) == expected


def test_only_worker_zero_is_primary() -> None:
    assert Worker(0, 3).primary and not Worker(1, 3).primary and Worker().primary
