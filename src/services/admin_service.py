"""Admin operations on points: reading admin commands, limits, the confirmed flow, the user card.

Points still move only through PointsService; this service decides *whether* and *when*.

- `/points_grant <user> <amount> [description]` and `/points_deduct ...` are parsed here, with a
  typed error (`AdminInputError`, one code per mistake) for every malformed input.
- Amounts at or above `rules.admin_confirm_threshold` (and every quick action from the user
  card) become a pending row in `admin_actions`; the admin confirms or cancels it with a
  button. Pending actions live in the database, so they survive restarts and work across bot
  workers. A confirmation locks the row, executes with the ledger key `admin_action:{id}` and
  marks the row decided: a second press (even a concurrent one, even after a crash between the
  two steps) finds it decided, and the ledger key would refuse a second payment anyway.
- Smaller amounts execute at once, keyed by the admin's message (`admin_cmd:{chat}:{message}`),
  so an update Telegram delivers twice moves points once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import PointsRules, Tier
from src.database import user_queries
from src.database.models import AdminAction, User
from src.services.points_service import PointsService, display_name, effective_tier
from src.services.points_types import (
    BalanceView,
    HistoryPage,
    Outcome,
    PersonalRates,
    PointsOutcome,
    UnknownUserError,
)

log = structlog.get_logger(__name__)

PENDING_TTL: Final = timedelta(hours=24)  # an old confirmation button must not move points
MAX_TELEGRAM_ID: Final = 2**63 - 1
# ASCII digits only: `\d` alone also matches other scripts' digits ("١٠", "１０"), which int()
# reads as numbers, so "1٠٠" would silently mean 100.
_NUMERIC_ID = re.compile(r"\d{1,19}", re.ASCII)
_USERNAME = re.compile(r"@([A-Za-z0-9_]{3,32})")
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


class AdminOp(StrEnum):
    GRANT = "grant"
    DEDUCT = "deduct"


class AdminErrorCode(StrEnum):
    """One code per malformed input; the bot turns each into a text (`admin-error-<code>`)."""

    MISSING_ARGS = "missing-args"
    MISSING_USER = "missing-user"
    USER_FORMAT = "user-format"  # args: user
    NOT_INTEGER = "not-integer"  # args: value
    NOT_POSITIVE = "not-positive"  # args: value
    TOO_LARGE = "too-large"  # args: value, maximum
    DESCRIPTION_TOO_LONG = "description-too-long"  # args: length, limit
    UNKNOWN_USER = "unknown-user"  # args: user
    INSUFFICIENT = "insufficient"  # args: user, balance, amount


class AdminInputError(Exception):
    """Bad admin input; nothing was written when it is raised."""

    def __init__(self, code: AdminErrorCode, **args: str | int) -> None:
        super().__init__(f"{code.value}: {args}")
        self.code = code
        self.args_ = args


@dataclass(frozen=True, slots=True)
class AmountCommand:
    """`<user> <amount> [description]`, checked for form (not yet against the database)."""

    user_ref: str
    amount: int
    description: str


@dataclass(frozen=True, slots=True)
class TargetUser:
    telegram_id: int
    username: str | None
    first_name: str | None
    language: str
    tier: str
    tier_expires_at: datetime | None
    is_admin: bool
    created_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, user: User) -> TargetUser:
        return cls(
            telegram_id=user.telegram_id,
            username=user.username,
            first_name=user.first_name,
            language=user.language,
            tier=user.tier,
            tier_expires_at=user.tier_expires_at,
            is_admin=user.is_admin,
            created_at=user.created_at,
            last_seen_at=user.last_seen_at,
        )

    @property
    def name(self) -> str:
        return display_name(self.telegram_id, self.username, self.first_name)


@dataclass(frozen=True, slots=True)
class PendingAction:
    """Awaiting the admin's ✅ / ❌."""

    id: int
    op: AdminOp
    user: TargetUser
    amount: int
    description: str


@dataclass(frozen=True, slots=True)
class Executed:
    """Points moved (or, for a replayed key, had already moved)."""

    op: AdminOp
    user: TargetUser
    amount: int
    description: str
    outcome: PointsOutcome
    action_id: int | None = None


class DecisionStatus(StrEnum):
    DONE = "done"  # executed by this press
    REFUSED = "refused"  # the ledger refused: the balance fell below the amount meanwhile
    CANCELLED = "cancelled"  # cancelled by this press
    ALREADY_DECIDED = "already_decided"  # decided earlier (a double press): nothing changed
    EXPIRED = "expired"  # older than PENDING_TTL: cancelled, nothing moved
    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"  # another admin's confirmation


@dataclass(frozen=True, slots=True)
class Decision:
    status: DecisionStatus
    action: PendingAction | None = None
    previous_status: str | None = None  # for ALREADY_DECIDED: done / refused / cancelled
    executed: Executed | None = None


@dataclass(frozen=True, slots=True)
class UserCard:
    user: TargetUser
    balance: BalanceView
    rates: PersonalRates
    effective_tier: Tier
    rank: int
    transactions: int
    referrals: int
    history: HistoryPage
    page: int
    pages: int


def parse_user_ref(text: str) -> int | str:
    """A numeric Telegram id (int) or an `@username` (str, without the @)."""
    text = text.strip()
    if not text:
        raise AdminInputError(AdminErrorCode.MISSING_USER)
    if _NUMERIC_ID.fullmatch(text) and 0 < int(text) <= MAX_TELEGRAM_ID:
        return int(text)
    match = _USERNAME.fullmatch(text)
    if match:
        return match.group(1)
    raise AdminInputError(AdminErrorCode.USER_FORMAT, user=text)


def check_amount(amount: int, rules: PointsRules) -> int:
    if amount <= 0:
        raise AdminInputError(AdminErrorCode.NOT_POSITIVE, value=amount)
    if amount > rules.admin_max_amount:
        raise AdminInputError(
            AdminErrorCode.TOO_LARGE, value=amount, maximum=rules.admin_max_amount
        )
    return amount


def parse_amount(text: str, rules: PointsRules) -> int:
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        raise AdminInputError(AdminErrorCode.NOT_INTEGER, value=text)
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 18:  # beyond any limit; don't build giant ints from input
        if text.startswith("-"):
            raise AdminInputError(AdminErrorCode.NOT_POSITIVE, value=text)
        raise AdminInputError(AdminErrorCode.TOO_LARGE, value=text, maximum=rules.admin_max_amount)
    return check_amount(int(text), rules)


def parse_amount_command(args: str | None, rules: PointsRules) -> AmountCommand:
    """Check `<user> <amount> [description]` for form; raises AdminInputError."""
    parts = (args or "").split(maxsplit=2)
    if len(parts) < 2:
        raise AdminInputError(AdminErrorCode.MISSING_ARGS)
    user_ref, raw_amount = parts[0], parts[1]
    parse_user_ref(user_ref)
    amount = parse_amount(raw_amount, rules)
    description = parts[2].strip() if len(parts) > 2 else ""
    if len(description) > rules.max_description_length:
        raise AdminInputError(
            AdminErrorCode.DESCRIPTION_TOO_LONG,
            length=len(description),
            limit=rules.max_description_length,
        )
    return AmountCommand(user_ref=user_ref, amount=amount, description=description)


class AdminService:
    def __init__(
        self,
        *,
        points: PointsService,
        session_factory: async_sessionmaker[AsyncSession],
    ) -> None:
        self._points = points
        self._sessions = session_factory

    @property
    def rules(self) -> PointsRules:
        return self._points.rules

    def parse(self, args: str | None) -> AmountCommand:
        return parse_amount_command(args, self.rules)

    # ------------------------------------------------------------------ users

    async def resolve_user(self, user_ref: str | int) -> TargetUser:
        ref = parse_user_ref(user_ref) if isinstance(user_ref, str) else user_ref
        user: User | None = None
        async with self._sessions() as session:
            if isinstance(ref, str):
                user = await user_queries.find_by_username(session, ref)
            elif 0 < ref <= MAX_TELEGRAM_ID:  # button data may be forged beyond bigint
                user = await user_queries.get_user(session, ref)
        if user is None:
            shown = f"@{ref}" if isinstance(ref, str) else str(ref)
            raise AdminInputError(AdminErrorCode.UNKNOWN_USER, user=shown)
        return TargetUser.of(user)

    async def user_card(
        self, *, user_ref: str | int, page: int = 0, page_size: int = 5
    ) -> UserCard:
        user = await self.resolve_user(user_ref)
        uid = user.telegram_id
        try:
            balance = await self._points.get_balance(user_id=uid)
            stats = await self._points.get_stats(user_id=uid)
            rates = await self._points.personal_rates(user_id=uid)
            history = await self._points.get_history(user_id=uid, limit=page_size, offset=0)
            pages = max(1, math.ceil(history.total / page_size))
            page = min(max(page, 0), pages - 1)  # a stale page button shows the nearest page
            if page:
                history = await self._points.get_history(
                    user_id=uid, limit=page_size, offset=page * page_size
                )
        except UnknownUserError:
            raise AdminInputError(AdminErrorCode.UNKNOWN_USER, user=str(uid)) from None
        async with self._sessions() as session:
            referrals = await user_queries.count_referrals(session, uid)
        return UserCard(
            user=user,
            balance=balance,
            rates=rates,
            effective_tier=effective_tier(user.tier, user.tier_expires_at, self._points.now()),
            rank=stats.rank,
            transactions=stats.transactions,
            referrals=referrals,
            history=history,
            page=page,
            pages=pages,
        )

    # ------------------------------------------------------------------ grant / deduct

    async def request(
        self, *, admin_id: int, op: AdminOp, command: AmountCommand, source_key: str
    ) -> PendingAction | Executed:
        """Execute at once, or (amount >= the confirm threshold) create a pending action.

        `source_key` identifies the admin's message, e.g. `admin_cmd:{chat_id}:{message_id}`.
        """
        user = await self.resolve_user(command.user_ref)
        amount = check_amount(command.amount, self.rules)
        if op is AdminOp.DEDUCT:
            await self._check_funds(user, amount)
        if amount >= self.rules.admin_confirm_threshold:
            return await self._create_pending(
                admin_id, op, user, amount, command.description, source_key=source_key
            )
        outcome = await self._execute(
            op,
            user_id=user.telegram_id,
            amount=amount,
            admin_id=admin_id,
            description=command.description,
            key=source_key,
        )
        if outcome.outcome is Outcome.INSUFFICIENT_FUNDS:  # the balance fell meanwhile
            raise self._insufficient(user, outcome.balance_after, amount)
        return Executed(op, user, amount, command.description, outcome)

    async def request_quick(
        self, *, admin_id: int, op: AdminOp, user_id: int, amount: int
    ) -> PendingAction:
        """A preset amount from the user card: always confirmed, whatever the amount."""
        user = await self.resolve_user(user_id)
        check_amount(amount, self.rules)
        if op is AdminOp.DEDUCT:
            await self._check_funds(user, amount)
        return await self._create_pending(admin_id, op, user, amount, "")

    async def confirm(self, *, action_id: int, admin_id: int) -> Decision:
        async with self._sessions() as session, session.begin():
            found = await self._lock_pending(session, action_id, admin_id)
            if isinstance(found, Decision):
                return found
            row, user, pending = found
            outcome = await self._execute(
                pending.op,
                user_id=row.user_id,
                amount=row.amount,
                admin_id=row.admin_id,
                description=row.description,
                key=f"admin_action:{row.id}",
            )
            refused = outcome.outcome is Outcome.INSUFFICIENT_FUNDS
            row.status = "refused" if refused else "done"
            row.decided_at = self._points.now()
        executed = Executed(pending.op, user, row.amount, row.description, outcome, row.id)
        log.info(
            "admin action decided",
            action_id=row.id,
            admin_id=admin_id,
            user_id=row.user_id,
            status=row.status,
        )
        status = DecisionStatus.REFUSED if refused else DecisionStatus.DONE
        return Decision(status, pending, executed=executed)

    async def cancel(self, *, action_id: int, admin_id: int) -> Decision:
        async with self._sessions() as session, session.begin():
            found = await self._lock_pending(session, action_id, admin_id)
            if isinstance(found, Decision):
                return found
            row, _, pending = found
            row.status = "cancelled"
            row.decided_at = self._points.now()
        log.info("admin action cancelled", action_id=action_id, admin_id=admin_id)
        return Decision(DecisionStatus.CANCELLED, pending)

    # ------------------------------------------------------------------ internals

    async def _check_funds(self, user: TargetUser, amount: int) -> None:
        balance = (await self._points.get_balance(user_id=user.telegram_id)).balance
        if balance < amount:
            raise self._insufficient(user, balance, amount)

    @staticmethod
    def _insufficient(user: TargetUser, balance: int, amount: int) -> AdminInputError:
        return AdminInputError(
            AdminErrorCode.INSUFFICIENT, user=user.name, balance=balance, amount=amount
        )

    async def _create_pending(
        self,
        admin_id: int,
        op: AdminOp,
        user: TargetUser,
        amount: int,
        description: str,
        *,
        source_key: str | None = None,
    ) -> PendingAction:
        """A new pending action; for a command seen before (same source), the one it made."""
        async with self._sessions() as session, session.begin():
            action_id = await session.scalar(
                pg_insert(AdminAction)
                .values(
                    admin_id=admin_id,
                    action=op.value,
                    user_id=user.telegram_id,
                    amount=amount,
                    description=description,
                    status="pending",
                    created_at=self._points.now(),
                    source_key=source_key,
                )
                .on_conflict_do_nothing(
                    index_elements=[AdminAction.admin_id, AdminAction.source_key],
                    index_where=AdminAction.source_key.is_not(None),
                )
                .returning(AdminAction.id)
            )
            if action_id is None:  # Telegram delivered the same command again
                existing = await session.scalar(
                    select(AdminAction).where(
                        AdminAction.admin_id == admin_id, AdminAction.source_key == source_key
                    )
                )
                assert existing is not None
                return PendingAction(
                    existing.id,
                    AdminOp(existing.action),
                    user,
                    existing.amount,
                    existing.description,
                )
        log.info(
            "admin action awaiting confirmation",
            action_id=action_id,
            admin_id=admin_id,
            op=op.value,
            user_id=user.telegram_id,
            amount=amount,
        )
        return PendingAction(action_id, op, user, amount, description)

    async def _lock_pending(
        self, session: AsyncSession, action_id: int, admin_id: int
    ) -> tuple[AdminAction, TargetUser, PendingAction] | Decision:
        """The pending row, locked until the caller's transaction ends; or why not."""
        if not 0 < action_id <= MAX_TELEGRAM_ID:
            return Decision(DecisionStatus.NOT_FOUND)
        row = await session.get(AdminAction, action_id, with_for_update=True)
        if row is None:
            return Decision(DecisionStatus.NOT_FOUND)
        db_user = await user_queries.get_user(session, row.user_id)
        if db_user is None:  # pragma: no cover - the foreign key cascades deletes
            return Decision(DecisionStatus.NOT_FOUND)
        user = TargetUser.of(db_user)
        pending = PendingAction(row.id, AdminOp(row.action), user, row.amount, row.description)
        if row.admin_id != admin_id:
            return Decision(DecisionStatus.NOT_YOURS, pending)
        if row.status != "pending":
            return Decision(DecisionStatus.ALREADY_DECIDED, pending, previous_status=row.status)
        now = self._points.now()
        if now - row.created_at > PENDING_TTL:
            row.status, row.decided_at = "cancelled", now  # committed by the caller's block
            return Decision(DecisionStatus.EXPIRED, pending)
        return row, user, pending

    async def _execute(
        self,
        op: AdminOp,
        *,
        user_id: int,
        amount: int,
        admin_id: int,
        description: str,
        key: str,
    ) -> PointsOutcome:
        move = self._points.admin_grant if op is AdminOp.GRANT else self._points.admin_deduct
        outcome = await move(
            user_id=user_id,
            amount=amount,
            admin_id=admin_id,
            description=description or None,
            key=key,
        )
        log.info(
            "admin points movement",
            admin_id=admin_id,
            op=op.value,
            user_id=user_id,
            amount=amount,
            outcome=outcome.outcome.value,
            duplicate=outcome.duplicate,
            key=key,
        )
        return outcome
