"""schemathesis over the API's own OpenAPI schema, against the real process: with valid init
data no generated request gets a 5xx or a response that differs from the schema; without
it, every protected operation answers 401."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation

from src.api.init_data import sign_init_data
from tests.support.api_server import api_server

pytestmark = pytest.mark.slow

TOKEN = "424242:SCHEMA-TEST"
USER = 558_000_001


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("api-schema")
    # Hypothesis sends hundreds of requests as one user: no rate limit in the way here.
    with api_server(
        workdir,
        database_url=database_url,
        token=TOKEN,
        API_RATE_LIMIT_PER_MINUTE="1000000",
        API_RATE_LIMIT_BURST="1000000",
    ) as url:
        yield url


def auth_headers() -> dict[str, str]:
    init_data = sign_init_data(TOKEN, user_id=USER, auth_date=datetime.now(UTC))
    return {"Authorization": f"tma {init_data}"}


def fuzz(operation: APIOperation, mode: GenerationMode, base_url: str) -> None:
    """Up to 40 generated requests; raises on the first failed check (hypothesis shrinks it)."""

    # Fixed headers: valid init data on every request (the header is not fuzzed).
    @given(case=operation.as_strategy(generation_mode=mode, headers=auth_headers()))
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url)

    run()


def test_no_server_errors_and_responses_match_the_schema(api_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{api_url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert "GET /api/points/balance" in labels and "GET /api/points/history" in labels
    failures = []
    for operation in operations:
        # Negative data needs something to break: operations without parameters have none.
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if operation.query else [])
        for mode in modes:
            try:
                fuzz(operation, mode, api_url)
            except Exception as exc:  # every operation is tried; all failures reported
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)


def test_every_protected_operation_refuses_without_init_data(api_url: str) -> None:
    import requests

    schema = schemathesis.openapi.from_url(f"{api_url}/api/openapi.json")
    protected = [
        op.ok() for op in schema.get_all_operations() if op.ok().path.startswith("/api/points/")
    ]
    assert len(protected) == 5
    for operation in protected:
        response = requests.get(f"{api_url}{operation.path}", timeout=10)
        assert response.status_code == 401, operation.label
        assert response.json()["error"] == "unauthorized"
