"""/points_user: the user card, its history pages and the quick grant/deduct buttons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import Tier
from src.database.models import User
from src.services.points_service import PointsService
from tests.bot.admin_helpers import (
    ADMIN,
    OTHER,
    PRESSED_ID,
    TARGET,
    admin_actions,
    become_admin,
    label,
    make_target,
    usage,
)
from tests.bot.helpers import (
    LANGS,
    LEVEL_NAMES,
    MARCH_10,
    balance_of,
    calls,
    db_user,
    ledger,
    multiplier,
    tr,
)
from tests.support.clock import FakeClock
from tests.support.factories import create_user, set_tier
from tests.support.telegram import BotHarness, buttons

ALICE = label("Alice", "alice")


def quick_row() -> list[tuple[str, str]]:
    return [
        ("+100", f"adm_qg:{TARGET}:100"),
        ("+1000", f"adm_qg:{TARGET}:1000"),
        ("−100", f"adm_qd:{TARGET}:100"),
        ("−1000", f"adm_qd:{TARGET}:1000"),
    ]


def card_buttons(
    lang: str, *, page: int = 0, prev: bool = False, nxt: bool = False
) -> list[tuple[str, str]]:
    nav = []
    if prev:
        nav.append(("◀", f"adm_us:{TARGET}:{page - 1}:0"))
    if nxt:
        nav.append(("▶", f"adm_us:{TARGET}:{page + 1}:0"))
    t = tr(lang)
    return [
        *nav,
        *quick_row(),
        (t("admin-button-refresh"), f"adm_us:{TARGET}:{page}:0"),
        (t("admin-button-menu"), "adm"),
    ]


async def add_referrals(sessions: async_sessionmaker[AsyncSession], *ids: int) -> None:
    for uid in ids:
        await create_user(sessions, telegram_id=uid)
        async with sessions() as session, session.begin():
            await session.execute(
                update(User).where(User.telegram_id == uid).values(referrer_id=TARGET)
            )


@pytest.mark.parametrize("lang", LANGS)
async def test_user_card_shows_everything_an_admin_needs(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    lang: str,
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions, lang="ru")
    await set_tier(sessions, TARGET, Tier.PREMIUM, datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    await add_referrals(sessions, 620_001, 620_002)
    rich = await create_user(sessions, telegram_id=OTHER)
    await points.admin_grant(user_id=rich, amount=9_000, admin_id=ADMIN)
    await points.admin_grant(user_id=TARGET, amount=6_000, admin_id=ADMIN, description="Welcome")
    clock.advance(minutes=1)
    await points.admin_deduct(user_id=TARGET, amount=500, admin_id=ADMIN)
    clock.advance(minutes=1)
    await points.claim_daily_login(user_id=TARGET)  # +100, streak 1

    requests = await harness.send("/points_user @alice", user_id=ADMIN)

    t = tr(lang)
    user = await db_user(sessions, TARGET)
    by_admin = t("admin-user-history-by", admin=str(ADMIN))
    expected = "\n".join(
        [
            t("admin-user-title", name=ALICE, id=str(TARGET)),
            t(
                "admin-user-meta",
                language="ru",
                created=user.created_at.astimezone(UTC).strftime("%Y-%m-%d"),
                seen=user.last_seen_at.astimezone(UTC).strftime("%Y-%m-%d"),
            ),
            "",
            t("admin-user-balance", balance=5_600),
            t("admin-user-lifetime", earned=6_100, spent=500),
            t(
                "admin-user-level",
                icon="🔍",
                name=LEVEL_NAMES[lang][2],
                level=3,
                level_mult=multiplier("1.2", lang),
                tier="PREMIUM",
                tier_mult=multiplier("1.5", lang),
            ),
            t("admin-user-tier-active", tier="PREMIUM", expires="2026-04-10"),
            t("admin-user-streak", streak=1, longest=1),
            t("admin-user-referrals", count=2),
            t("admin-user-rank", rank=2, transactions=3),
            "",
            t("admin-user-history", page=1, pages=1),
            t(
                "admin-user-history-line",
                date=f"{MARCH_10[lang]} 12:02",
                type=t("tx-earn_daily_login"),
                amount="+100",
                balance=5_600,
            ),
            t(
                "admin-user-history-line",
                date=f"{MARCH_10[lang]} 12:01",
                type=t("tx-admin_deduct"),
                amount="−500",
                balance=5_500,
            )
            + f" · {by_admin}",
            t(
                "admin-user-history-line",
                date=f"{MARCH_10[lang]} 12:00",
                type=t("tx-admin_grant"),
                amount="+6\xa0000" if lang == "ru" else "+6,000",
                balance=6_000,
            )
            + f" · {by_admin} · Welcome",
        ]
    )
    assert calls(requests) == [("send", ADMIN, expected)]
    assert buttons(requests[0]) == card_buttons(lang)


async def test_user_card_literally(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await become_admin(harness, "ru")
    await make_target(sessions)
    await points.admin_grant(user_id=TARGET, amount=22, admin_id=ADMIN, description="<i>x</i>")

    (text,) = [c[2] for c in calls(await harness.send(f"/points_user {TARGET}", user_id=ADMIN))]

    assert text.startswith("👤 <b>Alice (@alice)</b> · id <code>610001</code>\n")
    assert "💎 Баланс: <b>22</b> поинта\n" in text
    assert "🌱 Уровень 1, <b>Новичок</b> · уровень ×1,0 · FREE ×1,0" in text
    assert "🎫 Тариф: FREE\n" in text
    assert "🔥 Серия: 0 дней (лучшая: 0)" in text
    assert "🏆 Место: #1 · 1 транзакция" in text
    assert (
        "10 мар. 12:00 · 🎁 Бонус от команды: <b>+22</b> → 22 · админ 777000001 · &lt;i&gt;x&lt;/i&gt;"
        in text
    )


@pytest.mark.parametrize("lang", LANGS)
async def test_an_expired_tier_shows_as_free_with_the_old_tier(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions, username=None)
    await set_tier(sessions, TARGET, Tier.VIP, datetime(2026, 3, 1, tzinfo=UTC))

    (text,) = [c[2] for c in calls(await harness.send(f"/points_user {TARGET}", user_id=ADMIN))]

    t = tr(lang)
    lines = text.splitlines()
    assert lines[0] == t("admin-user-title", name="Alice", id=str(TARGET))
    assert t("admin-user-tier-expired", tier="VIP", expires="2026-03-01") in lines
    assert t("admin-user-history-empty") in lines
    assert t("admin-user-referrals", count=0) in lines


@pytest.mark.parametrize("lang", LANGS)
async def test_history_pages_with_arrows_and_a_stale_page(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    lang: str,
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)
    for amount in range(1, 13):  # 12 movements: pages of 5, 5, 2
        await points.admin_grant(user_id=TARGET, amount=amount, admin_id=ADMIN)
        clock.advance(minutes=1)

    first = await harness.send(f"/points_user {TARGET}", user_id=ADMIN)
    second = await harness.press(f"adm_us:{TARGET}:1:0", user_id=ADMIN)
    third = await harness.press(f"adm_us:{TARGET}:2:0", user_id=ADMIN)
    stale = await harness.press(f"adm_us:{TARGET}:99:0", user_id=ADMIN)

    t = tr(lang)

    def amounts(text: str) -> list[str]:
        history = text.rsplit(t("admin-user-history", page=1, pages=3), maxsplit=1)[-1]
        return [
            line.split("<b>")[1].split("</b>")[0] for line in history.splitlines() if "→" in line
        ]

    assert amounts(calls(first)[0][2]) == ["+12", "+11", "+10", "+9", "+8"]
    assert buttons(first[0]) == card_buttons(lang, page=0, nxt=True)
    (answer, (edit, chat, message_id, text2)) = calls(second)
    assert (answer, edit, chat, message_id) == (("answer", None, None), "edit", ADMIN, PRESSED_ID)
    assert t("admin-user-history", page=2, pages=3) in text2
    assert [line.split("<b>")[1].split("</b>")[0] for line in text2.splitlines()[-5:]] == [
        "+7",
        "+6",
        "+5",
        "+4",
        "+3",
    ]
    assert buttons(second[-1]) == card_buttons(lang, page=1, prev=True, nxt=True)
    text3 = calls(third)[-1][3]
    assert t("admin-user-history", page=3, pages=3) in text3
    assert [line.split("<b>")[1].split("</b>")[0] for line in text3.splitlines()[-2:]] == [
        "+2",
        "+1",
    ]
    assert buttons(third[-1]) == card_buttons(lang, page=2, prev=True)
    assert calls(stale)[-1][3] == text3  # a page past the end shows the last one


@pytest.mark.parametrize(
    ("args", "code", "values"),
    [
        ("", "missing-user", {}),
        ("alice", "user-format", {"user": "alice"}),
        ("@alice extra", "user-format", {"user": "@alice extra"}),
        ("424242", "unknown-user", {"user": "424242"}),
        ("@nobody", "unknown-user", {"user": "@nobody"}),
    ],
)
@pytest.mark.parametrize("lang", LANGS)
async def test_user_command_errors(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    args: str,
    code: str,
    values: dict[str, str],
    lang: str,
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)

    requests = await harness.send(f"/points_user {args}".rstrip(), user_id=ADMIN)

    expected = tr(lang)(f"admin-error-{code}", **values)
    if code != "unknown-user":  # a well-formed command gets no usage line
        expected += "\n" + usage(lang, "user")
    assert calls(requests) == [("send", ADMIN, expected)]


@pytest.mark.parametrize("lang", LANGS)
async def test_the_card_button_under_a_result_sends_a_new_card(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)
    card = calls(await harness.send(f"/points_user {TARGET}", user_id=ADMIN))[0][2]

    requests = await harness.press(f"adm_us:{TARGET}:0:1", user_id=ADMIN)

    assert calls(requests) == [("answer", None, None), ("send", ADMIN, card)]


@pytest.mark.parametrize("lang", LANGS)
async def test_card_of_an_unknown_user_gets_an_alert(harness: BotHarness, lang: str) -> None:
    await become_admin(harness, lang)

    requests = await harness.press("adm_us:424242:0:0", user_id=ADMIN)
    forged = await harness.press("adm_us:99999999999999999999:0:0", user_id=ADMIN)

    t = tr(lang)
    assert calls(requests) == [("answer", t("admin-error-unknown-user", user="424242"), True)]
    assert calls(forged) == [
        ("answer", t("admin-error-unknown-user", user="99999999999999999999"), True)
    ]


# ---------------------------------------------------------------------------- quick actions


@pytest.mark.parametrize(
    ("op", "prefix", "balance_after"), [("grant", "qg", 600), ("deduct", "qd", 400)]
)
@pytest.mark.parametrize("lang", LANGS)
async def test_quick_buttons_always_ask_for_confirmation_then_execute(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    op: str,
    prefix: str,
    balance_after: int,
    lang: str,
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions, lang="ru")
    await points.admin_grant(user_id=TARGET, amount=500, admin_id=ADMIN)

    asked = await harness.press(f"adm_{prefix}:{TARGET}:100", user_id=ADMIN)

    t = tr(lang)
    (action,) = await admin_actions(sessions)
    assert calls(asked) == [
        ("answer", None, None),
        ("send", ADMIN, t(f"admin-confirm-{op}", user=ALICE, id=str(TARGET), amount=100)),
    ]
    assert buttons(asked[-1]) == [
        (t("admin-button-confirm"), f"adm_ok:{action.id}"),
        (t("admin-button-cancel"), f"adm_no:{action.id}"),
    ]
    assert (action.action, action.amount, action.status) == (op, 100, "pending")
    assert await balance_of(sessions, TARGET) == 500

    confirmed = await harness.press(f"adm_ok:{action.id}", user_id=ADMIN)

    assert [c[0] for c in calls(confirmed)] == ["answer", "send", "edit"]
    assert calls(confirmed)[1] == (
        "send",
        TARGET,
        tr("ru")(f"admin-notify-{op}", amount=100, balance=balance_after),
    )
    assert await balance_of(sessions, TARGET) == balance_after
    assert (await ledger(sessions, TARGET))[-1].transaction_id == f"admin_action:{action.id}"


@pytest.mark.parametrize(
    ("data", "code", "values"),
    [
        (f"adm_qd:{TARGET}:1000", "insufficient", {"user": "Alice", "balance": 0, "amount": 1000}),
        (f"adm_qg:{TARGET}:5000000", "too-large", {"value": 5_000_000, "maximum": 1_000_000}),
        (f"adm_qg:{TARGET}:0", "not-positive", {"value": 0}),
        ("adm_qg:424242:100", "unknown-user", {"user": "424242"}),
    ],
)
@pytest.mark.parametrize("lang", LANGS)
async def test_quick_buttons_refused_with_an_alert_and_nothing_pending(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    data: str,
    code: str,
    values: dict[str, str | int],
    lang: str,
) -> None:
    await become_admin(harness, lang)
    await make_target(sessions)

    requests = await harness.press(data, user_id=ADMIN)

    assert calls(requests) == [("answer", tr(lang)(f"admin-error-{code}", **values), True)]
    assert await admin_actions(sessions) == []
