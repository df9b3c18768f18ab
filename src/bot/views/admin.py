"""Text of the admin panel: data and a Translator in, HTML out. No I/O here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from config.points_config import PointsRules, Tier
from src.bot.keyboards.admin import UsageTopic
from src.bot.views.points import level_name
from src.locales import Translator
from src.locales.dates import day_month_time
from src.locales.numbers import multiplier, signed
from src.services.admin_commands import SYNTAX_ERRORS, AdminInputError, AdminOp
from src.services.admin_types import Decision, DecisionStatus, Executed, PendingAction, UserCard
from src.services.points_types import HistoryEntry
from src.services.user_types import UserProfile

Arg = str | int | Decimal


def _escaped(args: dict[str, str | int]) -> dict[str, Arg]:
    # Error arguments may echo the admin's input: never let it become HTML.
    return {k: escape(v) if isinstance(v, str) else v for k, v in args.items()}


def user_label(user: UserProfile) -> str:
    """`Ann (@ann)` or just the display name, HTML-escaped."""
    name = escape(user.name)
    if user.username and user.first_name:
        return f"{name} (@{escape(user.username)})"
    return name


# ---------------------------------------------------------------------------- menu and usage


def menu_text(t: Translator) -> str:
    return t("admin-menu")


def usage_line(t: Translator, op: AdminOp | UsageTopic) -> str:
    return t(f"admin-usage-line-{op.value}")


def usage_text(t: Translator, topic: UsageTopic, rules: PointsRules) -> str:
    return t(
        f"admin-usage-{topic.value}",
        threshold=rules.admin_confirm_threshold,
        maximum=rules.admin_max_amount,
    )


def error_alert(t: Translator, error: AdminInputError) -> str:
    """The mistake alone, for a button's alert."""
    return t(f"admin-error-{error.code.value}", **_escaped(error.args_))


def error_text(t: Translator, error: AdminInputError, *, usage: AdminOp | UsageTopic) -> str:
    """The mistake; for a mistake in the command's form also the usage line, so the admin can
    retype at once (a well-formed command with, say, an unknown user needs no syntax lesson)."""
    mistake = error_alert(t, error)
    return f"{mistake}\n{usage_line(t, usage)}" if error.code in SYNTAX_ERRORS else mistake


# ---------------------------------------------------------------------------- grant / deduct


def _description_lines(t: Translator, description: str) -> list[str]:
    return [t("admin-description-line", description=escape(description))] if description else []


def pending_text(t: Translator, pending: PendingAction) -> str:
    lines = [
        t(
            f"admin-confirm-{pending.op.value}",
            user=user_label(pending.user),
            id=str(pending.user.telegram_id),
            amount=pending.amount,
        ),
        *_description_lines(t, pending.description),
    ]
    return "\n".join(lines)


def executed_text(t: Translator, executed: Executed, *, notified: bool | None) -> str:
    lines = [
        t(
            f"admin-done-{executed.op.value}",
            user=user_label(executed.user),
            id=str(executed.user.telegram_id),
            amount=executed.amount,
            balance=executed.outcome.balance_after,
        ),
        *_description_lines(t, executed.description),
    ]
    if executed.outcome.duplicate:
        lines.append(t("admin-done-replayed"))
    elif notified is not None:
        lines.append(
            t("admin-notified", language=t(f"admin-language-{executed.user.language}"))
            if notified
            else t("admin-not-notified")
        )
    return "\n".join(lines)


def decision_text(t: Translator, decision: Decision, *, notified: bool | None = None) -> str:
    """What the confirmation message becomes once the admin decided."""
    action = decision.action
    assert action is not None
    match decision.status:
        case DecisionStatus.DONE:
            assert decision.executed is not None
            return executed_text(t, decision.executed, notified=notified)
        case DecisionStatus.REFUSED:
            assert decision.executed is not None
            return t(
                "admin-refused",
                user=user_label(action.user),
                balance=decision.executed.outcome.balance_after,
                amount=action.amount,
            )
        case DecisionStatus.CANCELLED:  # what was called off, without the "❓ Confirm" heading
            cancelled = t(
                f"admin-cancelled-{action.op.value}",
                user=user_label(action.user),
                id=str(action.user.telegram_id),
                amount=action.amount,
            )
            return "\n".join([cancelled, *_description_lines(t, action.description)])
        case DecisionStatus.EXPIRED:
            return t("admin-expired")
    raise ValueError(f"no message text for {decision.status}")  # alerts, not edits


def decision_alert(t: Translator, decision: Decision) -> str:
    """The short answer shown on the button press."""
    match decision.status:
        case DecisionStatus.DONE:
            return t("admin-alert-done")
        case DecisionStatus.REFUSED:
            return t("admin-alert-refused")
        case DecisionStatus.CANCELLED:
            return t("admin-alert-cancelled")
        case DecisionStatus.EXPIRED:
            return t("admin-expired")
        case DecisionStatus.ALREADY_DECIDED:
            return t(f"admin-already-{decision.previous_status or 'done'}")
        case DecisionStatus.NOT_YOURS:
            return t("admin-action-not-yours")
    return t("admin-action-not-found")


def notification_text(t: Translator, executed: Executed) -> str:
    """For the user whose points moved, in the user's own language."""
    lines = [
        t(
            f"admin-notify-{executed.op.value}",
            amount=executed.amount,
            balance=executed.outcome.balance_after,
        )
    ]
    if executed.description:
        lines.append(t("admin-notify-reason", description=escape(executed.description)))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- user card


def _date(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d")


def _tier_line(t: Translator, card: UserCard, zone: ZoneInfo) -> str:
    user = card.user
    if user.tier == Tier.FREE.value or user.tier_expires_at is None:
        return t("admin-user-tier-free")
    expires = _date(user.tier_expires_at, zone)
    if card.effective_tier.value == user.tier:
        return t("admin-user-tier-active", tier=user.tier, expires=expires)
    return t("admin-user-tier-expired", tier=user.tier, expires=expires)


def history_line(t: Translator, entry: HistoryEntry, zone: ZoneInfo) -> str:
    key = f"tx-{entry.transaction_type}"
    line = t(
        "admin-user-history-line",
        date=day_month_time(entry.created_at.astimezone(zone), t.language),
        type=t(key) if t.has(key) else escape(entry.transaction_type),
        amount=signed(entry.amount, t.language),
        balance=entry.balance_after,
    )
    extra = []
    admin_id = entry.metadata.get("admin_id")
    if admin_id is not None:
        extra.append(t("admin-user-history-by", admin=str(admin_id)))
    description = entry.metadata.get("description")
    if description:
        extra.append(escape(str(description)))
    return f"{line} · {' · '.join(extra)}" if extra else line


def user_card_text(t: Translator, card: UserCard, rules: PointsRules, *, timezone: str) -> str:
    zone = ZoneInfo(timezone)
    user, balance = card.user, card.balance
    icon, name = level_name(rules, min(balance.level, rules.max_level), t.language)
    lines = [t("admin-user-title", name=user_label(user), id=str(user.telegram_id))]
    if user.is_admin:
        lines.append(t("admin-user-is-admin"))
    lines += [
        t(
            "admin-user-meta",
            language=user.language,
            created=_date(user.created_at, zone),
            seen=_date(user.last_seen_at, zone),
        ),
        "",
        t("admin-user-balance", balance=balance.balance),
        t("admin-user-lifetime", earned=balance.lifetime_earned, spent=balance.lifetime_spent),
        t(
            "admin-user-level",
            icon=icon,
            name=name,
            level=balance.level,
            level_mult=multiplier(card.rates.level_multiplier, t.language),
            tier=card.rates.tier,
            tier_mult=multiplier(card.rates.tier_multiplier, t.language),
        ),
        _tier_line(t, card, zone),
        t("admin-user-streak", streak=balance.current_streak, longest=balance.longest_streak),
        t("admin-user-referrals", count=card.referrals),
        t("admin-user-rank", rank=card.rank, transactions=card.transactions),
        "",
    ]
    if card.history.total == 0:
        lines.append(t("admin-user-history-empty"))
    else:
        lines.append(t("admin-user-history", page=card.page + 1, pages=card.pages))
        lines += [history_line(t, entry, zone) for entry in card.history.entries]
    return "\n".join(lines)
