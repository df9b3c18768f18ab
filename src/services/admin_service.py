"""Admin operations on points: limits, the confirmed flow, the user card.

Points still move only through PointsService; this service decides *whether* and *when*.
Command text is read by src/services/admin_commands.py; rows are written by
src/database/admin_queries.py.

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
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import PointsRules
from src.database import admin_queries, user_queries
from src.database.admin_queries import ActionRow
from src.services.admin_commands import (
    AdminErrorCode,
    AdminInputError,
    AdminOp,
    AmountCommand,
    check_amount,
    parse_amount_command,
    parse_user_ref,
)
from src.services.admin_types import (
    ActionStatus,
    Decision,
    DecisionStatus,
    Executed,
    PendingAction,
    UserCard,
)
from src.services.points_math import MAX_TELEGRAM_ID, effective_tier
from src.services.points_service import PointsService
from src.services.points_types import Outcome, PointsOutcome, UnknownUserError
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)

PENDING_TTL: Final = timedelta(hours=24)  # an old confirmation button must not move points


@dataclass(frozen=True, slots=True)
class _Movement:
    op: AdminOp
    user_id: int
    amount: int
    admin_id: int
    description: str
    key: str


class AdminService:
    def __init__(
        self,
        *,
        points: PointsService,
        session_factory: async_sessionmaker[AsyncSession],
        rules: PointsRules,
    ) -> None:
        self._points = points
        self._sessions = session_factory
        self._rules = rules

    @property
    def rules(self) -> PointsRules:
        return self._rules

    @property
    def timezone(self) -> str:
        """The zone the ledger's days and the admin's dates are shown in."""
        return self._points.timezone

    def parse(self, args: str | None) -> AmountCommand:
        return parse_amount_command(args, self._rules)

    # ------------------------------------------------------------------ users

    async def resolve_user(self, user_ref: str | int) -> UserProfile:
        ref = parse_user_ref(user_ref) if isinstance(user_ref, str) else user_ref
        async with self._sessions() as session:
            if isinstance(ref, str):
                row = await user_queries.find_by_username(session, ref)
            elif 0 < ref <= MAX_TELEGRAM_ID:  # button data may be forged beyond bigint
                row = await user_queries.get_user(session, ref)
            else:
                row = None
        if row is None:
            shown = f"@{ref}" if isinstance(ref, str) else str(ref)
            raise AdminInputError(AdminErrorCode.UNKNOWN_USER, user=shown)
        return UserProfile.of(row)

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
        amount = check_amount(command.amount, self._rules)
        if op is AdminOp.DEDUCT:
            await self._check_funds(user, amount)
        if amount >= self._rules.admin_confirm_threshold:
            return await self._create_pending(
                admin_id, op, user, amount, command.description, source_key=source_key
            )
        movement = _Movement(
            op, user.telegram_id, amount, admin_id, command.description, source_key
        )
        outcome = await self._execute(movement)
        if outcome.outcome is Outcome.INSUFFICIENT_FUNDS:  # the balance fell meanwhile
            raise self._insufficient(user, outcome.balance_after, amount)
        return Executed(op, user, amount, command.description, outcome)

    async def request_quick(
        self, *, admin_id: int, op: AdminOp, user_id: int, amount: int
    ) -> PendingAction:
        """A preset amount from the user card: always confirmed, whatever the amount."""
        user = await self.resolve_user(user_id)
        check_amount(amount, self._rules)
        if op is AdminOp.DEDUCT:
            await self._check_funds(user, amount)
        return await self._create_pending(admin_id, op, user, amount, "")

    async def confirm(self, *, action_id: int, admin_id: int) -> Decision:
        async with self._sessions() as session, session.begin():
            found = await self._lock_pending(session, action_id, admin_id)
            if isinstance(found, Decision):
                return found
            row, pending = found
            outcome = await self._execute(
                _Movement(
                    pending.op,
                    row.user_id,
                    row.amount,
                    row.admin_id,
                    row.description,
                    f"admin_action:{row.id}",
                )
            )
            refused = outcome.outcome is Outcome.INSUFFICIENT_FUNDS
            status = ActionStatus.REFUSED if refused else ActionStatus.DONE
            await admin_queries.set_status(
                session, row.id, status=status, decided_at=self._points.now()
            )
        log.info(
            "admin action decided",
            action_id=row.id,
            admin_id=admin_id,
            user_id=row.user_id,
            status=status.value,
        )
        executed = Executed(pending.op, pending.user, row.amount, row.description, outcome, row.id)
        return Decision(DecisionStatus(status.value), pending, executed=executed)

    async def cancel(self, *, action_id: int, admin_id: int) -> Decision:
        async with self._sessions() as session, session.begin():
            found = await self._lock_pending(session, action_id, admin_id)
            if isinstance(found, Decision):
                return found
            row, pending = found
            await admin_queries.set_status(
                session, row.id, status=ActionStatus.CANCELLED, decided_at=self._points.now()
            )
        log.info("admin action cancelled", action_id=action_id, admin_id=admin_id)
        return Decision(DecisionStatus.CANCELLED, pending)

    # ------------------------------------------------------------------ internals

    async def _check_funds(self, user: UserProfile, amount: int) -> None:
        balance = (await self._points.get_balance(user_id=user.telegram_id)).balance
        if balance < amount:
            raise self._insufficient(user, balance, amount)

    @staticmethod
    def _insufficient(user: UserProfile, balance: int, amount: int) -> AdminInputError:
        return AdminInputError(
            AdminErrorCode.INSUFFICIENT, user=user.name, balance=balance, amount=amount
        )

    async def _create_pending(
        self,
        admin_id: int,
        op: AdminOp,
        user: UserProfile,
        amount: int,
        description: str,
        *,
        source_key: str | None = None,
    ) -> PendingAction:
        """A new pending action; for a command seen before (same source), the one it made."""
        async with self._sessions() as session, session.begin():
            row = await admin_queries.insert_pending(
                session,
                admin_id=admin_id,
                action=op.value,
                user_id=user.telegram_id,
                amount=amount,
                description=description,
                created_at=self._points.now(),
                source_key=source_key,
            )
        log.info(
            "admin action awaiting confirmation",
            action_id=row.id,
            admin_id=admin_id,
            op=row.action,
            user_id=user.telegram_id,
            amount=row.amount,
        )
        return PendingAction(row.id, AdminOp(row.action), user, row.amount, row.description)

    async def _lock_pending(
        self, session: AsyncSession, action_id: int, admin_id: int
    ) -> tuple[ActionRow, PendingAction] | Decision:
        """The pending row, locked until the caller's transaction ends; or why not."""
        if not 0 < action_id <= MAX_TELEGRAM_ID:
            return Decision(DecisionStatus.NOT_FOUND)
        row = await admin_queries.lock_action(session, action_id)
        if row is None:
            return Decision(DecisionStatus.NOT_FOUND)
        db_user = await user_queries.get_user(session, row.user_id)
        if db_user is None:  # pragma: no cover - the foreign key cascades deletes
            return Decision(DecisionStatus.NOT_FOUND)
        user = UserProfile.of(db_user)
        pending = PendingAction(row.id, AdminOp(row.action), user, row.amount, row.description)
        if row.admin_id != admin_id:
            return Decision(DecisionStatus.NOT_YOURS, pending)
        if row.status != ActionStatus.PENDING:
            previous = ActionStatus(row.status)
            return Decision(DecisionStatus.ALREADY_DECIDED, pending, previous_status=previous)
        now = self._points.now()
        if now - row.created_at > PENDING_TTL:  # committed by the caller's block
            await admin_queries.set_status(
                session, row.id, status=ActionStatus.CANCELLED, decided_at=now
            )
            return Decision(DecisionStatus.EXPIRED, pending)
        return row, pending

    async def _execute(self, movement: _Movement) -> PointsOutcome:
        move = (
            self._points.admin_grant if movement.op is AdminOp.GRANT else self._points.admin_deduct
        )
        outcome = await move(
            user_id=movement.user_id,
            amount=movement.amount,
            admin_id=movement.admin_id,
            description=movement.description or None,
            key=movement.key,
        )
        log.info(
            "admin points movement",
            admin_id=movement.admin_id,
            op=movement.op.value,
            user_id=movement.user_id,
            amount=movement.amount,
            outcome=outcome.outcome.value,
            duplicate=outcome.duplicate,
            key=movement.key,
        )
        return outcome
