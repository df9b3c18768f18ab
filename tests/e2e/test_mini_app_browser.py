"""The Mini App in a real browser: Debian's headless Chromium driven by Playwright opens /app/
on the real API process, with Telegram's script stubbed (init data signed with the test
token), and shows the balance, level, streak, paged history, leaderboard and levels in the
user's language and the theme's colours. Screenshots go to the test's tmp folder (and to
$MINI_APP_SCREENSHOTS when set)."""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from src.api.init_data import sign_init_data
from src.bootstrap import AppContext
from tests.conftest import ADMIN_ID, ContextFactory
from tests.support.api_server import api_server
from tests.support.clock import FakeClock
from tests.support.factories import create_user

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TOKEN = "424242:BROWSER-TEST"
USER = 559_000_001
TELEGRAM_JS = "https://telegram.org/js/telegram-web-app.js"
THEME = {
    "bg_color": "#ffffff",
    "secondary_bg_color": "#efeff4",
    "section_bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#8e8e93",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "accent_text_color": "#2481cc",
    "destructive_text_color": "#e53935",
}

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run "
        "the Mini App browser test (.ci/run installs it)",
        allow_module_level=True,
    )

from playwright.async_api import Browser, Page, Route, async_playwright  # noqa: E402


def telegram_stub(init_data: str, language: str) -> str:
    """What telegram-web-app.js gives a page, as far as the Mini App uses it."""
    web_app = {
        "initData": init_data,
        "initDataUnsafe": {"user": {"id": USER, "first_name": "Аня", "language_code": language}},
        "themeParams": THEME,
        "colorScheme": "light",
    }
    return (
        f"window.Telegram = {{ WebApp: Object.assign({json.dumps(web_app)}, {{"
        " ready() { window.__telegramReady = true; }, expand() {}, onEvent() {},"
        " HapticFeedback: { selectionChanged() {} } }) };"
    )


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[str]:
    with api_server(
        tmp_path_factory.mktemp("api-browser"), database_url=database_url, token=TOKEN
    ) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def open_app(browser: Browser, url: str, init_data: str, language: str) -> Page:
    page = await browser.new_page(viewport={"width": 400, "height": 860}, device_scale_factor=2)
    stub = telegram_stub(init_data, language)

    async def route(route: Route) -> None:
        if route.request.url.startswith(TELEGRAM_JS):
            await route.fulfill(body=stub, content_type="application/javascript")
        elif route.request.url.startswith(url):
            await route.continue_()
        else:  # nothing else may leave the machine
            await route.abort()

    await page.route("**/*", route)
    await page.goto(f"{url}/app/")
    return page


async def save(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    image = await page.screenshot(path=str(path), full_page=True)
    assert len(image) > 10_000
    if target := os.environ.get("MINI_APP_SCREENSHOTS"):
        copy_to(path, Path(target))
    return path


def copy_to(path: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, folder / path.name)


async def seed(context: AppContext, clock: FakeClock) -> None:
    await create_user(context.sessions, telegram_id=USER, first_name="Аня", language_code="ru")
    points = context.points
    rivals = [("Максим", 48_000), ("Lena", 21_500), ("crypto_owl", 9_800)]
    for name, amount in rivals:
        rival = await create_user(context.sessions, first_name=name)
        await points.admin_grant(user_id=rival, amount=amount, admin_id=ADMIN_ID)
    await points.claim_daily_login(user_id=USER)  # +100, streak 1
    clock.advance(days=1)
    await points.claim_daily_login(user_id=USER)  # +50, streak 2
    for i in range(20):
        clock.advance(seconds=30)
        action = ("earn_text_request", "earn_vision_request", "earn_chart_request")[i % 3]
        await points.award_request(user_id=USER, action=action, key=f"req:{i}")
    await points.admin_grant(user_id=USER, amount=5_000, admin_id=ADMIN_ID, description="bonus")
    await points.spend(user_id=USER, amount=120, key="spend:1")


async def test_mini_app_shows_balance_history_leaderboard_and_levels(
    make_context: ContextFactory,
    clock: FakeClock,
    api_url: str,
    browser: Browser,
    tmp_path: Path,
) -> None:
    # The API process runs on the wall clock: the seeded days must be yesterday and today.
    clock.set(datetime.now(UTC) - timedelta(days=1, minutes=15))
    context = make_context()
    await seed(context, clock)
    balance = await context.points.get_balance(user_id=USER, language="ru")
    history = await context.points.get_history(user_id=USER, limit=100)
    assert history.total == 24

    init_data = sign_init_data(
        TOKEN, user_id=USER, auth_date=datetime.now(UTC), first_name="Аня", language_code="ru"
    )
    page = await open_app(browser, api_url, init_data, "ru")
    await page.wait_for_selector("#content:not([hidden])", timeout=20_000)
    assert await page.evaluate("window.__telegramReady") is True

    shown = (await page.text_content("#balance") or "").replace("\u00a0", " ").replace(" ", "")
    assert int(shown) == balance.balance
    assert await page.text_content("#level-name") == balance.level_name == "Аналитик"
    assert await page.text_content("#level-icon") == "🔍"
    assert await page.text_content("#streak") == "🔥 2"
    percent = math.floor(balance.progress_to_next_level * 100 + 0.5)  # JS Math.round
    assert await page.get_attribute(".progress", "aria-valuenow") == str(percent)
    # Russian texts, from src/locales/ru/app.ftl; the theme's colours in use.
    assert await page.text_content(".tab.active") == "📜 История"
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(239, 239, 244)"  # secondary_bg_color
    button = await page.evaluate("getComputedStyle(document.querySelector('.tab.active')).color")
    assert button == "rgb(0, 0, 0)"

    rows = page.locator("#history .row")
    assert await rows.count() == 20
    newest = history.entries[0]
    assert await rows.nth(0).locator(".row-title").text_content() == "🛒 Потрачено"
    assert (await rows.nth(0).locator(".amount").text_content() or "").endswith(
        str(abs(newest.amount))
    )
    assert await page.text_content("#page") == "1 / 2"
    await save(page, tmp_path, "mini_app_ru.png")

    await page.click("#older")
    await page.wait_for_function("document.querySelectorAll('#history .row').length === 4")
    assert await page.text_content("#page") == "2 / 2"
    last = page.locator("#history .row").nth(3)
    assert await last.locator(".row-title").text_content() == "🎁 Ежедневный бонус"

    await page.click(".tab[data-tab=top]")
    await page.wait_for_selector("#top .row")
    top = page.locator("#top .row")
    assert await top.count() == 4
    assert "Максим" in (await top.nth(0).text_content() or "")
    mine = page.locator("#top .row.me")
    assert "Аня" in (await mine.text_content() or "")
    assert await page.text_content("#my-rank") == "Ваше место: #4"  # behind all three rivals
    await save(page, tmp_path, "mini_app_ru_top.png")

    await page.click(".tab[data-tab=levels]")
    levels = page.locator("#levels .row")
    assert await levels.count() == 6
    assert await page.locator("#levels .row .badge").count() == 1
    assert "Аналитик" in (await levels.nth(2).text_content() or "")
    assert await levels.nth(2).locator(".badge").text_content() == "Вы здесь"


async def test_forged_init_data_shows_how_to_open_the_app(
    api_url: str, browser: Browser, tmp_path: Path
) -> None:
    forged = sign_init_data("424242:NOT-OUR-BOT", user_id=USER, auth_date=datetime.now(UTC))
    page = await open_app(browser, api_url, forged, "en")
    await page.wait_for_selector("#status div", timeout=20_000)
    text = await page.text_content("#status")
    assert text == "Open this page from the bot: send /points, then tap 📱 Open app."
    assert await page.is_hidden("#content")
    await save(page, tmp_path, "mini_app_refused.png")
