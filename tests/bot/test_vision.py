"""Pictures -> the AI's analysis -> `earn_vision_request` (SPEC 3, 8).

The bot talks HTTP to the fake Bot API (getFile and the file download, as Telegram serves
them) and the fake OpenAI API, which decodes every image part and refuses one that is not a
picture or is larger than 2048 px. Bad input must cost nothing: no AI call, no ledger row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiogram.types import Sticker
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import RequestAction
from src.bot.updates import telegram_user
from tests.bot.helpers import LANGS, balance_of, break_method, ledger, tr
from tests.bot.vision_helpers import VisionBot, sent
from tests.conftest import ContextFactory
from tests.support.clock import FakeClock
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_telegram import FakeTelegram, TelegramCall
from tests.support.pictures import GARBAGE_PNG, picture, truncated_jpeg

ME = 610_001
VisionFactory = Callable[..., VisionBot]
MB = 1024 * 1024


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def make_vision(
    make_context: ContextFactory, fake_telegram: FakeTelegram
) -> AsyncIterator[VisionFactory]:
    built: list[VisionBot] = []

    def build(**settings: str) -> VisionBot:
        env = {"TELEGRAM_API_BASE": fake_telegram.base_url, "VISION_ALBUM_WAIT_SECONDS": "0.3"}
        vision = VisionBot(make_context(**env, **settings), fake_telegram)
        built.append(vision)
        return vision

    yield build
    for vision in built:
        await vision.bot.session.close()


@pytest.fixture
def vision(make_vision: VisionFactory) -> VisionBot:
    return make_vision()


def counted(outcome: str) -> float:
    """syntra_vision_requests_total{outcome} now."""
    value = REGISTRY.get_sample_value("syntra_vision_requests_total", {"outcome": outcome})
    return value or 0.0


def image_question(fake_llm: FakeOpenAI) -> str:
    (request,) = fake_llm.requests
    _, vision_prompt, user = request.body["messages"]
    assert vision_prompt["role"] == "system"
    text, *images = user["content"]
    assert all(part["image_url"]["url"].startswith("data:image/jpeg;base64,") for part in images)
    return str(text["text"])


@pytest.mark.parametrize("lang", LANGS)
async def test_a_photo_is_analysed_then_earns_20(
    vision: VisionBot,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    update = vision.photo(
        picture(2560, 1280), user_id=ME, lang=lang, dimensions=(2560, 1280), caption="Support?"
    )
    assert update.message is not None

    calls = await vision.feed(update)

    assert sent(calls) == [("getFile",), ("send", ME, "Answer: Support? [1 image(s)]")]
    assert any(c.method == "sendChatAction" for c in calls)  # "typing" while it works
    assert len(vision.fake.file_downloads) == 1
    (request,) = fake_llm.requests
    assert request.images == ((2048, 1024),)  # downscaled to 2048 px on the long side
    assert request.body["model"] == "test-model"  # LLM_VISION_MODEL unset: LLM_MODEL
    assert request.body["messages"][0]["content"].endswith(
        "Answer in English." if lang == "en" else "Answer in Russian."
    )
    assert image_question(fake_llm) == "Support?"
    (row,) = await ledger(sessions, ME)
    key = f"vision_req:{ME}:{update.message.message_id}"
    assert (row.transaction_type, row.amount, row.transaction_id) == (
        "earn_vision_request",
        20,
        key,
    )
    assert row.metadata_json == {
        "chat_id": ME,
        "message_id": update.message.message_id,
        "pictures": 1,
    }
    assert await balance_of(sessions, ME) == 20


@pytest.mark.parametrize("lang", LANGS)
async def test_no_caption_asks_the_default_question_in_the_users_language(
    vision: VisionBot, fake_llm: FakeOpenAI, lang: str
) -> None:
    await vision.feed(vision.photo(picture(640, 480), user_id=ME, lang=lang))

    assert image_question(fake_llm) == tr(lang)("vision-default-question")


async def test_llm_vision_model_is_used_for_pictures(
    make_vision: VisionFactory, fake_llm: FakeOpenAI
) -> None:
    vision: VisionBot = make_vision(LLM_VISION_MODEL="vision-model")

    await vision.feed(vision.photo(picture(640, 480), user_id=ME))

    assert fake_llm.requests[0].body["model"] == "vision-model"


@pytest.mark.parametrize(
    ("data", "mime", "name", "size"),
    [
        (picture(1200, 800, "PNG", mode="RGBA"), "image/png", "chart.png", (1200, 800)),
        (picture(4000, 3000, "WEBP"), "image/webp", "screen.webp", (2048, 1536)),
        (picture(900, 3000), "image/jpeg", "long.jpg", (614, 2048)),
    ],
)
async def test_an_image_sent_as_a_file_is_analysed(
    vision: VisionBot,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    data: bytes,
    mime: str,
    name: str,
    size: tuple[int, int],
) -> None:
    calls = await vision.feed(
        vision.document(data, user_id=ME, mime=mime, name=name, caption="Trend?")
    )

    assert sent(calls) == [("getFile",), ("send", ME, "Answer: Trend? [1 image(s)]")]
    assert fake_llm.requests[0].images == (size,)
    assert await balance_of(sessions, ME) == 20


async def assert_refused_for_free(
    vision: VisionBot,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    calls: list[TelegramCall],
    reply: str,
    *,
    downloaded: bool,
) -> None:
    expected = [("getFile",), ("send", ME, reply)] if downloaded else [("send", ME, reply)]
    assert sent(calls) == expected
    assert fake_llm.requests == []
    assert await ledger(sessions, ME) == []


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("mime", "name"),
    [("application/pdf", "report.pdf"), ("video/mp4", "clip.mp4"), ("image/gif", "a.gif")],
)
async def test_a_file_that_is_not_a_supported_image_is_refused(
    vision: VisionBot,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
    mime: str,
    name: str,
) -> None:
    update = vision.document(b"%PDF-1.7 ...", user_id=ME, lang=lang, mime=mime, name=name)

    calls = await vision.feed(update)

    reply = tr(lang)("vision-not-image")
    await assert_refused_for_free(vision, fake_llm, sessions, calls, reply, downloaded=False)


@pytest.mark.parametrize("lang", LANGS)
async def test_a_picture_over_the_limit_is_refused_before_downloading(
    vision: VisionBot, fake_llm: FakeOpenAI, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    update = vision.photo(picture(64, 64), user_id=ME, lang=lang, size=11 * MB)
    before = counted("too_big")

    calls = await vision.feed(update)

    reply = tr(lang)("vision-too-big", limit=10)
    await assert_refused_for_free(vision, fake_llm, sessions, calls, reply, downloaded=False)
    assert vision.fake.file_downloads == []
    assert counted("too_big") == before + 1


async def test_telegrams_own_20_mb_limit_is_reported_as_too_big(
    make_vision: VisionFactory, fake_llm: FakeOpenAI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    vision: VisionBot = make_vision(VISION_MAX_FILE_MB="20")
    # The message did not say how big the file is; getFile refuses it (400 file is too big).
    update = vision.document(
        picture(64, 64),
        user_id=ME,
        mime="image/png",
        name="x.png",
        size=25 * MB,
        report_size=False,
    )

    calls = await vision.feed(update)

    reply = tr("en")("vision-too-big", limit=20)
    await assert_refused_for_free(vision, fake_llm, sessions, calls, reply, downloaded=True)
    assert vision.fake.file_downloads == []


async def test_a_download_larger_than_the_limit_is_refused(
    make_vision: VisionFactory, fake_llm: FakeOpenAI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    vision: VisionBot = make_vision(VISION_MAX_FILE_MB="1")
    big = b"\xff\xd8" + bytes(2 * MB)
    update = vision.document(big, user_id=ME, mime="image/jpeg", name="x.jpg", report_size=False)

    calls = await vision.feed(update)

    reply = tr("en")("vision-too-big", limit=1)
    await assert_refused_for_free(vision, fake_llm, sessions, calls, reply, downloaded=True)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("data", [GARBAGE_PNG, truncated_jpeg()], ids=["garbage", "truncated"])
async def test_an_image_that_does_not_decode_is_refused(
    vision: VisionBot,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
    data: bytes,
) -> None:
    update = vision.document(data, user_id=ME, lang=lang, mime="image/png", name="chart.png")

    calls = await vision.feed(update)

    reply = tr(lang)("vision-unreadable")
    await assert_refused_for_free(vision, fake_llm, sessions, calls, reply, downloaded=True)


async def test_an_album_gets_one_answer_and_one_award(
    vision: VisionBot, fake_llm: FakeOpenAI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    parts = [
        vision.photo(picture(800, 600), user_id=ME, media_group_id="album-1", caption=caption)
        for caption in ("Compare these", None, None)
    ]
    first = parts[0].message
    assert first is not None
    answered_before = counted("answered")

    calls = await vision.feed(*parts)

    answers = [c for c in sent(calls) if c[0] == "send"]
    assert answers == [("send", ME, "Answer: Compare these [3 image(s)]")]
    (request,) = fake_llm.requests
    assert request.images == ((800, 600),) * 3
    assert counted("answered") == answered_before + 1
    (row,) = await ledger(sessions, ME)
    assert row.transaction_id == f"vision_req:{ME}:{first.message_id}"
    assert row.metadata_json["pictures"] == 3


async def test_an_album_with_a_file_that_is_not_an_image_is_refused_once(
    vision: VisionBot, fake_llm: FakeOpenAI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    group = "album-2"
    parts = [
        vision.document(
            picture(80, 60), user_id=ME, mime="image/jpeg", name="a.jpg", media_group_id=group
        ),
        vision.document(
            b"%PDF", user_id=ME, mime="application/pdf", name="b.pdf", media_group_id=group
        ),
    ]

    calls = await vision.feed(*parts)

    reply = tr("en")("vision-not-image")
    await assert_refused_for_free(vision, fake_llm, sessions, calls, reply, downloaded=False)


async def test_a_redelivered_update_pays_once(
    vision: VisionBot, fake_llm: FakeOpenAI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    update = vision.photo(picture(640, 480), user_id=ME)

    await vision.feed(update)
    await vision.feed(update)

    assert len(await ledger(sessions, ME)) == 1
    assert await balance_of(sessions, ME) == 20


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("mode", "reply"), [("error", "ai-failed"), ("hang", "ai-timeout")])
async def test_ai_down_gets_a_clear_reply_and_no_points(
    make_vision: VisionFactory,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
    mode: str,
    reply: str,
) -> None:
    vision: VisionBot = make_vision(LLM_TIMEOUT_SECONDS="0.3")
    fake_llm.mode = mode  # type: ignore[assignment]

    calls = await vision.feed(vision.photo(picture(640, 480), user_id=ME, lang=lang))

    assert sent(calls) == [("getFile",), ("send", ME, tr(lang)(reply))]
    assert await ledger(sessions, ME) == []


async def test_no_ai_configured_gets_the_notice(
    make_vision: VisionFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    vision: VisionBot = make_vision(LLM_BASE_URL="")

    calls = await vision.feed(vision.photo(picture(64, 64), user_id=ME))

    assert sent(calls) == [("send", ME, tr("en")("ai-not-configured"))]
    assert await ledger(sessions, ME) == []


async def test_other_content_still_gets_the_text_or_picture_hint(vision: VisionBot) -> None:
    sticker = Sticker(
        file_id="s",
        file_unique_id="s",
        type="regular",
        width=1,
        height=1,
        is_animated=False,
        is_video=False,
    )
    update = vision.updates.media(user=telegram_user(ME), sticker=sticker)

    calls = await vision.feed(update)

    assert sent(calls) == [("send", ME, tr("en")("ai-only-text"))]


async def test_pictures_inside_the_10_s_interval_are_served_but_not_paid(
    vision: VisionBot, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await vision.feed(vision.photo(picture(64, 64), user_id=ME))
    clock.advance(seconds=9)
    second = await vision.feed(vision.photo(picture(64, 64), user_id=ME, caption="again"))
    after_second = await balance_of(sessions, ME)
    clock.advance(seconds=1)
    await vision.feed(vision.photo(picture(64, 64), user_id=ME))

    assert ("send", ME, "Answer: again [1 image(s)]") in sent(second)
    assert after_second == 20
    assert await balance_of(sessions, ME) == 40


async def test_a_points_failure_never_blocks_the_answer(
    vision: VisionBot,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    points = vision.context.points
    break_method(monkeypatch, points, "award_request", ConnectionError("points database is down"))

    calls = await vision.feed(vision.photo(picture(64, 64), user_id=ME, caption="ok?"))

    assert sent(calls) == [("getFile",), ("send", ME, "Answer: ok? [1 image(s)]")]
    assert vision.context.failures.get("points") == 1
    assert vision.context.failures.get("handler") == 0
    assert await ledger(sessions, ME) == []


# ------------------------------------------------------------------- the daily image quota


async def images_used_today(vision: VisionBot, n: int) -> int:
    """Take `n` image slots as earlier pictures today would have; today's count after."""
    user = await vision.context.users.get(ME)
    assert user is not None
    for i in range(n):
        assert (await vision.context.quotas.take(user, RequestAction.VISION, f"old:{i}")).granted
    usage = await vision.context.quotas.usage(user)
    assert usage is not None
    return int(usage.of(RequestAction.VISION).used)


@pytest.mark.parametrize("lang", LANGS)
async def test_the_fifth_picture_is_analysed_and_the_sixth_refused(
    vision: VisionBot,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    lang: str,
) -> None:
    await vision.feed(vision.photo(picture(640, 480), user_id=ME, lang=lang))  # registers: 1 used
    assert await images_used_today(vision, 3) == 4  # FREE: 5 images a day
    clock.advance(seconds=11)
    fifth = await vision.feed(vision.photo(picture(640, 480), user_id=ME, lang=lang))
    clock.advance(seconds=11)
    sixth = await vision.feed(vision.photo(picture(640, 480), user_id=ME, lang=lang))

    assert [c[0] for c in sent(fifth)] == ["getFile", "send"]
    [(_, _, refusal)] = sent(sixth)  # no download, no AI call
    unit = tr(lang)("quota-unit-earn_vision_request", count=5)
    assert tr(lang)("quota-used-up", unit=unit, tier="FREE", time="00:00", zone="UTC",
                    hours=12, minutes=0) in refusal  # fmt: skip
    assert len(fake_llm.requests) == 2
    assert [r.amount for r in await ledger(sessions, ME)] == [20, 20]
    assert await images_used_today(vision, 0) == 5


async def test_a_picture_the_ai_could_not_answer_gives_its_slot_back(
    vision: VisionBot, fake_llm: FakeOpenAI
) -> None:
    fake_llm.mode = "error"
    await vision.feed(vision.photo(picture(640, 480), user_id=ME))
    assert await images_used_today(vision, 0) == 0
