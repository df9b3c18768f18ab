"""/points_grant and /points_deduct: immediate and confirmed movements, every malformed input,
notifications in the user's language, and a confirmation that executes once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.services.admin_commands import AdminOp, parse_amount_command
from src.services.admin_service import AdminService
from src.services.admin_types import PendingAction
from src.services.points_service import PointsService
from tests.bot.admin_helpers import (
    ADMIN,
    OTHER,
    PRESSED_ID,
    TARGET,
    admin_actions,
    all_rows,
    become_admin,
    label,
    make_target,
    set_admin_flag,
    usage,
)
from tests.bot.helpers import LANGS, balance_of, calls, ledger, multiplier, tr
from tests.support.clock import FakeClock
from tests.support.telegram import BotHarness, buttons

ALICE = label("Alice", "alice")
LANG_PAIRS = [("en", "ru"), ("ru", "en")]  # (admin's language, target user's language)


def card_button(lang: str) -> list[tuple[str, str]]:
    return [(tr(lang)("admin-button-user-card"), f"adm_us:{TARGET}:0:1")]


def confirm_buttons(lang: str, action_id: int) -> list[tuple[str, str]]:
    t = tr(lang)
    return [
        (t("admin-button-confirm"), f"adm_ok:{action_id}"),
        (t("admin-button-cancel"), f"adm_no:{action_id}"),
    ]


def done(lang: str, op: str, *, amount: int, balance: int, description: str, notified: str) -> str:
    t = tr(lang)
    lines = [t(f"admin-done-{op}", user=ALICE, id=str(TARGET), amount=amount, balance=balance)]
    if description:
        lines.append(t("admin-description-line", description=description))
    lines.append(t("admin-notified", language=t(f"admin-language-{notified}")))
    return "\n".join(lines)


def notification(lang: str, op: str, *, amount: int, balance: int, description: str) -> str:
    t = tr(lang)
    lines = [t(f"admin-notify-{op}", amount=amount, balance=balance)]
    if description:
        lines.append(t("admin-notify-reason", description=description))
    return "\n".join(lines)


def pending(lang: str, op: str, *, amount: int, description: str = "") -> str:
    t = tr(lang)
    lines = [t(f"admin-confirm-{op}", user=ALICE, id=str(TARGET), amount=amount)]
    if description:
        lines.append(t("admin-description-line", description=description))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- immediate


@pytest.mark.parametrize(("admin_lang", "user_lang"), LANG_PAIRS)
async def test_grant_below_threshold_moves_points_records_admin_and_notifies_the_user(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    admin_lang: str,
    user_lang: str,
) -> None:
    await become_admin(harness, admin_lang)
    await make_target(sessions, lang=user_lang)
    update = harness.message_update(f"/points_grant {TARGET} 500 Contest winner", user_id=ADMIN)

    requests = await harness.feed(update)

    assert calls(requests) == [
        (
            "send",
            TARGET,
            notification(user_lang, "grant", amount=500, balance=500, description="Contest winner"),
        ),
        (
            "send",
            ADMIN,
            done(
                admin_lang,
                "grant",
                amount=500,
                balance=500,
                description="Contest winner",
                notified=user_lang,
            ),
        ),
    ]
    assert buttons(requests[-1]) == card_button(admin_lang)
    (row,) = await ledger(sessions, TARGET)
    assert update.message is not None
    assert (row.transaction_type, row.amount, row.transaction_id, row.metadata_json) == (
        "admin_grant",
        500,
        f"admin_cmd:{ADMIN}:{update.message.message_id}",
        {"admin_id": ADMIN, "description": "Contest winner"},
    )
    assert await admin_actions(sessions) == []  # below the threshold: no confirmation


async def test_grant_and_notification_texts_literally(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await become_admin(harness, "en")
    await make_target(sessions, lang="ru")

    requests = await harness.send("/points_grant @Alice 21 За отзыв", user_id=ADMIN)

    to_user, to_admin = (c[2] for c in calls(requests))
    assert to_user == (
        "🎁 Команда Syntra начислила вам <b>+21</b> поинт. Ваш баланс: <b>21</b>.\n"
        "📝 Причина: За отзыв"
    )
    assert to_admin.startswith(
        "✅ Granted <b>+21</b> points to Alice (@alice) (id <code>610001</code>). "
        "New balance: <b>21</b>."
    )
    assert to_admin.endswith("📨 The user was notified (in Russian).")


@pytest.mark.parametrize(("admin_lang", "user_lang"), LANG_PAIRS)
async def test_deduct_below_threshold_takes_points_and_counts_as_spent(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    admin_lang: str,
    user_lang: str,
) -> None:
    await become_admin(harness, admin_lang)
    await make_target(sessions, lang=user_lang)
    await points.admin_grant(user_id=TARGET, amount=300, admin_id=ADMIN)

    requests = await harness.send("/points_deduct @alice 120 Spam", user_id=ADMIN)

    assert calls(requests) == [
        (
            "send",
            TARGET,
            notification(user_lang, "deduct", amount=120, balance=180, description="Spam"),
        ),
        (
            "send",
            ADMIN,
            done(
                admin_lang,
                "deduct",
                amount=120,
                balance=180,
                description="Spam",
                notified=user_lang,
            ),
        ),
    ]
    rows = await ledger(sessions, TARGET)
    assert [(r.transaction_type, r.amount, r.metadata_json) for r in rows][-1] == (
        "admin_deduct",
        -120,
        {"admin_id": ADMIN, "description": "Spam"},
    )
    balance = await points.get_balance(user_id=TARGET)
    assert (balance.balance, balance.lifetime_earned, balance.lifetime_spent) == (180, 300, 120)


async def test_without_description_no_description_lines(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await become_admin(harness, "ru")
    await make_target(sessions, lang="en")

    requests = await harness.send(f"/points_grant {TARGET} 5", user_id=ADMIN)

    assert calls(requests) == [
        ("send", TARGET, notification("en", "grant", amount=5, balance=5, description="")),
        (
            "send",
            ADMIN,
            done("ru", "grant", amount=5, balance=5, description="", notified="en"),
        ),
    ]
    (row,) = await ledger(sessions, TARGET)
    assert row.metadata_json == {"admin_id": ADMIN, "description": ""}


@pytest.mark.parametrize("user_lang", LANGS)
async def test_a_grant_that_crosses_a_level_congratulates_the_user(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], user_lang: str
) -> None:
    await become_admin(harness, "en")
    await make_target(sessions, lang=user_lang)

    requests = await harness.send(f"/points_grant {TARGET} 1000", user_id=ADMIN)

    tu = tr(user_lang)
    level_up = tu(
        "level-up",
        icon="📈",
        name="Trader" if user_lang == "en" else "Трейдер",
        level=2,
        multiplier=multiplier("1.1", user_lang),
    )
    assert [c[2] for c in calls(requests) if c[1] == TARGET] == [
        notification(user_lang, "grant", amount=1000, balance=1000, description=""),
        level_up,
    ]


async def test_a_redelivered_command_moves_points_once_and_does_not_notify_again(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await become_admin(harness, "en")
    await make_target(sessions)
    update = harness.message_update(f"/points_grant {TARGET} 100", user_id=ADMIN)
    await harness.feed(update)

    again = await harness.feed(update)

    t = tr("en")
    first_line = t("admin-done-grant", user=ALICE, id=str(TARGET), amount=100, balance=100)
    assert calls(again) == [("send", ADMIN, f"{first_line}\n{t('admin-done-replayed')}")]
    assert await balance_of(sessions, TARGET) == 100
    assert len(await ledger(sessions, TARGET)) == 1


# ---------------------------------------------------------------------------- malformed input

LONG = "x" * 501
BAD_INPUT = [
    ("", "missing-args", {}),
    (f"{TARGET}", "missing-args", {}),
    ("alice 100", "user-format", {"user": "alice"}),
    ("@a 100", "user-format", {"user": "@a"}),
    ("-5 100", "user-format", {"user": "-5"}),
    (f"{TARGET} abc", "not-integer", {"value": "abc"}),
    (f"{TARGET} 1.5", "not-integer", {"value": "1.5"}),
    (f"{TARGET} <b>", "not-integer", {"value": "&lt;b&gt;"}),
    (f"{TARGET} 0", "not-positive", {"value": 0}),
    (f"{TARGET} -5", "not-positive", {"value": -5}),
    (f"{TARGET} 1000001", "too-large", {"value": 1_000_001, "maximum": 1_000_000}),
    (
        f"{TARGET} 99999999999999999999999",
        "too-large",
        {"value": "99999999999999999999999", "maximum": 1_000_000},
    ),
    (f"{TARGET} 100 {LONG}", "description-too-long", {"length": 501, "limit": 500}),
    ("424242 100", "unknown-user", {"user": "424242"}),
    ("@nobody 100", "unknown-user", {"user": "@nobody"}),
]


@pytest.mark.parametrize(("args", "code", "values"), BAD_INPUT)
@pytest.mark.parametrize(("op", "lang"), [("grant", "en"), ("deduct", "ru")])
async def test_malformed_input_gets_a_clear_error_and_writes_nothing(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    op: str,
    lang: str,
    args: str,
    code: str,
    values: dict[str, str | int],
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)

    requests = await harness.send(f"/points_{op} {args}".rstrip(), user_id=ADMIN)

    expected = tr(lang)(f"admin-error-{code}", **values)
    if code in {"missing-args", "missing-user", "user-format", "not-integer"}:  # form, not value
        expected += "\n" + usage(lang, op)
    assert calls(requests) == [("send", ADMIN, expected)]
    assert await all_rows(sessions) == []
    assert await admin_actions(sessions) == []


@pytest.mark.parametrize(("op", "lang"), [("grant", "ru"), ("deduct", "en")])
async def test_malformed_input_in_the_other_language(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], op: str, lang: str
) -> None:
    await become_admin(harness, lang)

    requests = await harness.send(f"/points_{op} {TARGET} ten", user_id=ADMIN)

    t = tr(lang)
    expected = f"{t('admin-error-not-integer', value='ten')}\n{usage(lang, op)}"
    assert calls(requests) == [("send", ADMIN, expected)]


def test_error_texts_literally() -> None:
    en, ru = tr("en"), tr("ru")
    assert en("admin-error-too-large", value=2_000_000, maximum=1_000_000) == (
        "⚠️ 2,000,000 is above the limit of 1,000,000 points per operation."
    )
    assert ru("admin-error-insufficient", user="Alice", balance=22, amount=50) == (
        "⚠️ У пользователя Alice только 22 поинта: списать 50 нельзя. Ничего не изменено."
    )
    assert en("admin-error-insufficient", user="Alice", balance=1, amount=50).startswith(
        "⚠️ Alice has only 1 point:"
    )
    assert usage("en", "grant") == (
        "Usage: <code>/points_grant &lt;user&gt; &lt;amount&gt; [description]</code>"
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_deduct_beyond_the_balance_is_refused_and_moves_nothing(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)
    await points.admin_grant(user_id=TARGET, amount=300, admin_id=ADMIN)

    requests = await harness.send(f"/points_deduct {TARGET} 500", user_id=ADMIN)

    t = tr(lang)
    expected = t("admin-error-insufficient", user="Alice", balance=300, amount=500)
    assert calls(requests) == [("send", ADMIN, expected)]  # well-formed: no usage line
    assert [r.amount for r in await ledger(sessions, TARGET)] == [300]
    assert await balance_of(sessions, TARGET) == 300


def test_parsing_keeps_the_whole_description() -> None:
    from config.points_config import DEFAULT_RULES

    parsed = parse_amount_command("@Bob_1 +42   Best   answer, week 3", DEFAULT_RULES)
    assert (parsed.user_ref, parsed.amount, parsed.description) == (
        "@Bob_1",
        42,
        "Best   answer, week 3",
    )


# ---------------------------------------------------------------------------- confirmed


async def start_pending(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], command: str
) -> int:
    await harness.send(command, user_id=ADMIN)
    actions = await admin_actions(sessions)
    assert actions[-1].status == "pending"
    return actions[-1].id


@pytest.mark.parametrize(("admin_lang", "user_lang"), LANG_PAIRS)
@pytest.mark.parametrize("op", ["grant", "deduct"])
async def test_at_the_threshold_the_admin_confirms_and_a_double_press_executes_once(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    op: str,
    admin_lang: str,
    user_lang: str,
) -> None:
    await become_admin(harness, admin_lang)
    await make_target(sessions, lang=user_lang)
    await points.admin_grant(user_id=TARGET, amount=25_000, admin_id=ADMIN)

    asked = await harness.send(f"/points_{op} {TARGET} 10000 Season prize", user_id=ADMIN)

    (action,) = await admin_actions(sessions)
    assert calls(asked) == [
        ("send", ADMIN, pending(admin_lang, op, amount=10_000, description="Season prize"))
    ]
    assert buttons(asked[0]) == confirm_buttons(admin_lang, action.id)
    assert (action.admin_id, action.action, action.user_id, action.amount) == (
        ADMIN,
        op,
        TARGET,
        10_000,
    )
    assert (action.description, action.status, action.decided_at) == (
        "Season prize",
        "pending",
        None,
    )
    assert await balance_of(sessions, TARGET) == 25_000  # nothing moved before the press

    first = await harness.press(f"adm_ok:{action.id}", user_id=ADMIN)

    balance = 35_000 if op == "grant" else 15_000
    t = tr(admin_lang)
    assert calls(first) == [
        ("answer", t("admin-alert-done"), None),
        (
            "send",
            TARGET,
            notification(user_lang, op, amount=10_000, balance=balance, description="Season prize"),
        ),
        (
            "edit",
            ADMIN,
            PRESSED_ID,
            done(
                admin_lang,
                op,
                amount=10_000,
                balance=balance,
                description="Season prize",
                notified=user_lang,
            ),
        ),
    ]
    assert buttons(first[-1]) == card_button(admin_lang)

    second = await harness.press(f"adm_ok:{action.id}", user_id=ADMIN)

    assert calls(second) == [("answer", t("admin-already-done"), True)]
    assert await balance_of(sessions, TARGET) == balance
    rows = await ledger(sessions, TARGET)
    assert [(r.amount, r.transaction_id) for r in rows[1:]] == [
        (10_000 if op == "grant" else -10_000, f"admin_action:{action.id}")
    ]
    assert rows[-1].metadata_json == {"admin_id": ADMIN, "description": "Season prize"}
    (decided,) = await admin_actions(sessions)
    assert decided.status == "done" and decided.decided_at is not None


async def test_concurrent_confirmations_execute_once(
    points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_target(sessions)
    service = AdminService(points=points, session_factory=sessions, rules=points.rules)
    request = service.parse(f"{TARGET} 50000 Raffle")
    created = await service.request(
        admin_id=ADMIN, op=AdminOp.GRANT, command=request, source_key="test:1"
    )
    assert isinstance(created, PendingAction)

    decisions = await asyncio.gather(
        *(service.confirm(action_id=created.id, admin_id=ADMIN) for _ in range(5))
    )

    statuses = sorted(d.status.value for d in decisions)
    assert statuses == ["already_decided"] * 4 + ["done"]
    assert await balance_of(sessions, TARGET) == 50_000
    assert len(await ledger(sessions, TARGET)) == 1


@pytest.mark.parametrize("lang", LANGS)
async def test_cancel_moves_nothing_and_a_later_confirm_is_refused_politely(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)
    action_id = await start_pending(harness, sessions, f"/points_grant {TARGET} 20000 Oops")

    cancelled = await harness.press(f"adm_no:{action_id}", user_id=ADMIN)
    confirm_after = await harness.press(f"adm_ok:{action_id}", user_id=ADMIN)
    cancel_again = await harness.press(f"adm_no:{action_id}", user_id=ADMIN)

    t = tr(lang)
    expected = "\n".join(
        [
            t("admin-cancelled-grant", user=ALICE, id=str(TARGET), amount=20_000),
            t("admin-description-line", description="Oops"),
        ]
    )
    assert calls(cancelled) == [
        ("answer", t("admin-alert-cancelled"), None),
        ("edit", ADMIN, PRESSED_ID, expected),
    ]
    assert buttons(cancelled[-1]) == []
    assert calls(confirm_after) == [("answer", t("admin-already-cancelled"), True)]
    assert calls(cancel_again) == [("answer", t("admin-already-cancelled"), True)]
    assert await all_rows(sessions) == []
    (action,) = await admin_actions(sessions)
    assert action.status == "cancelled"


async def test_deduct_and_cancel_texts_literally(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """No double negative ("loses −1,000"); a cancelled action no longer asks to confirm."""
    await become_admin(harness, "en")
    await make_target(sessions)
    await points.admin_grant(user_id=TARGET, amount=30_000, admin_id=ADMIN)
    (asked,) = [
        c[2]
        for c in calls(await harness.send(f"/points_deduct {TARGET} 12000 Typo", user_id=ADMIN))
    ]
    action_id = (await admin_actions(sessions))[-1].id

    (_, (*_, cancelled)) = calls(await harness.press(f"adm_no:{action_id}", user_id=ADMIN))

    assert asked == (
        "❓ <b>Confirm the deduct</b>\n"
        "Alice (@alice) (id <code>610001</code>) loses <b>12,000</b> points.\n"
        "📝 Description: Typo"
    )
    assert cancelled == (
        "❌ <b>Cancelled</b>: the deduct of 12,000 points from Alice (@alice)"
        " (id <code>610001</code>). Nothing was changed.\n📝 Description: Typo"
    )
    assert "❓" not in cancelled and "−" not in asked
    ru = tr("ru")
    assert ru("admin-done-deduct", user="Alice", id="1", amount=1_000, balance=0).startswith(
        "✅ Списано <b>1\xa0000</b> поинтов у пользователя Alice"
    )
    assert ru("admin-cancelled-grant", user="Alice", id="1", amount=21).startswith(
        "❌ <b>Отменено</b>: начисление 21 поинта пользователю Alice"
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_a_confirmation_older_than_a_day_expires(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, lang: str
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)
    action_id = await start_pending(harness, sessions, f"/points_grant {TARGET} 20000")
    clock.advance(hours=24, seconds=1)

    requests = await harness.press(f"adm_ok:{action_id}", user_id=ADMIN)

    t = tr(lang)
    assert calls(requests) == [
        ("answer", t("admin-expired"), True),
        ("edit", ADMIN, PRESSED_ID, t("admin-expired")),
    ]
    assert await all_rows(sessions) == []
    (action,) = await admin_actions(sessions)
    assert action.status == "cancelled"


@pytest.mark.parametrize("lang", LANGS)
async def test_a_deduct_the_balance_no_longer_covers_is_refused_at_confirmation(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)
    await points.admin_grant(user_id=TARGET, amount=15_000, admin_id=ADMIN)
    action_id = await start_pending(harness, sessions, f"/points_deduct {TARGET} 10000")
    await points.spend(user_id=TARGET, amount=6_000, key="shop:1")  # 9 000 left

    refused = await harness.press(f"adm_ok:{action_id}", user_id=ADMIN)
    again = await harness.press(f"adm_ok:{action_id}", user_id=ADMIN)

    t = tr(lang)
    assert calls(refused) == [
        ("answer", t("admin-alert-refused"), True),
        (
            "edit",
            ADMIN,
            PRESSED_ID,
            t("admin-refused", user=ALICE, balance=9_000, amount=10_000),
        ),
    ]
    assert calls(again) == [("answer", t("admin-already-refused"), True)]
    assert await balance_of(sessions, TARGET) == 9_000
    last = (await ledger(sessions, TARGET))[-1]  # the ledger keeps its refusal, zero amount
    assert (last.amount, last.transaction_id) == (0, f"admin_action:{action_id}")
    (action,) = await admin_actions(sessions)
    assert action.status == "refused"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("data", ["adm_ok:999999", "adm_no:999999", "adm_ok:9223372036854775808"])
async def test_an_unknown_action_id_gets_a_polite_alert(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str, data: str
) -> None:
    await become_admin(harness, lang)

    requests = await harness.press(data, user_id=ADMIN)

    assert calls(requests) == [("answer", tr(lang)("admin-action-not-found"), True)]


async def test_another_admins_confirmation_is_not_theirs_to_press(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await become_admin(harness, "en")
    await make_target(sessions)
    await make_target(sessions, telegram_id=OTHER, lang="ru", username=None, first_name="Oleg")
    await set_admin_flag(sessions, OTHER)
    action_id = await start_pending(harness, sessions, f"/points_grant {TARGET} 20000")

    requests = await harness.press(f"adm_ok:{action_id}", user_id=OTHER)

    assert calls(requests) == [("answer", tr("ru")("admin-action-not-yours"), True)]
    assert await all_rows(sessions) == []
