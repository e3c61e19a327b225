"""Every common Vietnamese date form is read; impossible ones are problems, not guesses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from indexer.dates import MAX_YEAR, MIN_YEAR, read_date

VN = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thứ Hai, 21/9/2025 - 08:30", datetime(2025, 9, 21, 8, 30, tzinfo=VN)),
        ("21 tháng 9 năm 2025", datetime(2025, 9, 21, tzinfo=VN)),
        ("21 tháng 09 năm 2025", datetime(2025, 9, 21, tzinfo=VN)),
        ("ngày 21 tháng 9, 2025", datetime(2025, 9, 21, tzinfo=VN)),
        ("21/09/25", datetime(2025, 9, 21, tzinfo=VN)),
        ("01/01/70", datetime(1970, 1, 1, tzinfo=VN)),
        ("2025-9-21", datetime(2025, 9, 21, tzinfo=VN)),
        ("2025-09-21", datetime(2025, 9, 21, tzinfo=VN)),
        ("2025-09-21T08:30:00", datetime(2025, 9, 21, 8, 30, tzinfo=VN)),
        ("2025-09-21 08:30", datetime(2025, 9, 21, 8, 30, tzinfo=VN)),
        ("2025-09-21T08:30:00+07:00", datetime(2025, 9, 21, 8, 30, tzinfo=VN)),
        ("2025-09-21T01:30:00Z", datetime(2025, 9, 21, 1, 30, tzinfo=UTC)),
        ("Ngày đăng 09/06/2020 | 17:47", datetime(2020, 6, 9, 17, 47, tzinfo=VN)),
        ("Chủ nhật, 05/10/2025, 14:02 (GMT+7)", datetime(2025, 10, 5, 14, 2, tzinfo=VN)),
        ("21.09.2025 08h30", datetime(2025, 9, 21, 8, 30, tzinfo=VN)),
        # forms only dateparser reads
        ("September 21, 2025", datetime(2025, 9, 21, tzinfo=VN)),
        ("21 Sep 2025 08:30", datetime(2025, 9, 21, 8, 30, tzinfo=VN)),
    ],
)
def test_readable_forms(text, expected):
    value, problem = read_date(text)
    assert problem is None
    assert value == expected and value.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31/02/2020", "impossible date"),
        ("30 tháng 2 năm 2021", "impossible date"),
        ("2021-13-01", "impossible date"),
        ("0001-01-01T00:00:00+05:00", f"outside the years {MIN_YEAR}–{MAX_YEAR}"),
        ("9999-12-31T23:59:59-05:00", f"outside the years {MIN_YEAR}–{MAX_YEAR}"),
        ("không rõ", "unreadable date"),
        ("hôm qua", "unreadable date"),  # relative to a crawl nobody remembers
        (20201001, "not text"),
    ],
)
def test_unreadable_or_impossible_dates_are_problems(text, problem):
    value, reason = read_date(text)
    assert value is None and problem in reason


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_date_is_no_problem(value):
    assert read_date(value) == (None, None)
