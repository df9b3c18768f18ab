"""The ledger's CHECK on transaction_type (migration 0008) lists exactly the TransactionType
enum: a new type needs a migration that widens it."""

from __future__ import annotations

import importlib.util

from config.points_config import TransactionType
from config.settings import PROJECT_ROOT


def test_the_check_constraint_lists_every_transaction_type() -> None:
    path = PROJECT_ROOT / "alembic" / "versions" / "0008_payments.py"
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.TYPES) == sorted(t.value for t in TransactionType)
