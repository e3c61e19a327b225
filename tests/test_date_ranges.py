"""One reading of a date range (search.dates.parse_date_range) for the API and the CLI."""

from __future__ import annotations

from datetime import datetime

import pytest

import cli
from search.dates import DateRangeError, parse_date_range

BAD = [
    (("2020-13", None), "from", "is not a valid date"),
    ((None, "2020-02-31"), "to", "is not a valid date"),
    (("2021", "2020"), "from", "'from' is after 'to'"),
    (("2020-06-02", "2020-06-01"), "from", "'from' is after 'to'"),
]


def test_bounds_cover_their_whole_period():
    assert parse_date_range("2020-06", "2020-06") == (
        datetime(2020, 6, 1),
        datetime(2020, 6, 30, 23, 59),
    )
    assert parse_date_range(None, " ") == (None, None)
    assert parse_date_range("", "2019") == (None, datetime(2019, 12, 31, 23, 59))
    assert parse_date_range(2020, None) == (datetime(2020, 1, 1), None)  # a JSON number


@pytest.mark.parametrize(("bounds", "bound", "message"), BAD)
def test_a_bad_range_names_its_bound(bounds, bound, message):
    with pytest.raises(DateRangeError) as caught:
        parse_date_range(*bounds)
    assert caught.value.bound == bound and message in str(caught.value)


@pytest.mark.parametrize(("bounds", "bound", "message"), BAD)
def test_every_endpoint_and_the_cli_answer_alike(
    client, demo_index, capsys, bounds, bound, message
):
    params = {k: v for k, v in zip(("from", "to"), bounds, strict=True) if v is not None}
    answers = [
        client.simulate_get("/search", params=params),
        client.simulate_get("/export", params=params),
        client.simulate_get("/related", params={"id": "demo-001", **params}),
        client.simulate_post("/related", json={"text": "Quận ủy họp", **params}),
    ]
    for resp in answers:
        assert resp.status_code == 400, resp.text
        assert resp.json["parameter"] == bound and message in resp.json["error"]
    argv = ["search", "quận", "--index", str(demo_index)]
    argv += [a for k, v in params.items() for a in (f"--{k}", v)]
    code = cli.main(argv)
    assert code != 0 and message in capsys.readouterr().err
