"""`./manage.sh console`: chat with the bot in this terminal, no Telegram needed.

The real dispatcher, routers, middlewares and database (the embedded PostgreSQL unless
DATABASE_URL is set) answer; only Telegram is replaced, by the in-process `LocalBotSession`.
What the bot sends is printed the way Telegram shows it: HTML as plain (or bold) text, inline
buttons numbered and pressed with `:1`, `:2`, ... Console commands start with ":" so they never
clash with the bot's "/" commands. Logs go to LOG_DIR/console.log only.

python -m src.bot.console        (or ./manage.sh console)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import structlog
from aiogram import Dispatcher
from aiogram.methods import (
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup, Message, Update

from config.settings import LLM_DEMO, get_settings
from src.bootstrap import AppContext, build_context, build_llm, prepare_database
from src.bot.bot_factory import create_bot
from src.bot.console_media import ConsoleFileError, picture_update
from src.bot.console_render import keyboard_buttons, render
from src.bot.console_users import SimulatedUsers, UserArgsError, parse_user_args
from src.bot.dispatcher import create_dispatcher
from src.bot.local_session import RecordingBotSession
from src.bot.updates import UpdateBuilder
from src.locales import LANGUAGES
from src.logging_config import configure_logging, secret_values
from src.operator_errors import run_operator_command
from src.services.user_types import UserProfile

log = structlog.get_logger("console")

CONSOLE_TOKEN = "42:CONSOLE"

HELP = """\
Console commands (anything else goes to the bot as a message, e.g. /start, /points, a question):
  :1 .. :N, :press N   press button N of the last keyboard
  :user ID [NAME] [@username]
                       act as another Telegram user (name and @username are kept per id)
  :lang ru|en          the simulated Telegram app language (the bot takes it from a user's
                       first message and keeps it; /language changes it afterwards)
  :admin on|off        give or take the admin role of the current user id
  :photo PATH [CAPTION] send a picture, the caption as the question (JPEG, PNG and WEBP go
                       as a photo, any other file as a document)
  :demo on|off         questions answered by an offline demo assistant (canned answers,
                       labelled 🧪) instead of the configured AI
  :help                this list
  :quit                leave (Ctrl-D and Ctrl-C too)"""

DEMO_ON = (
    "The offline demo assistant answers questions: canned answers, labelled 🧪, "
    "and they earn points like real ones. :demo off turns it off."
)
DEMO_OFF = "Demo assistant off: questions go to the configured AI (LLM_BASE_URL)."

# ------------------------------------------------------------------ the console


class Console:
    """Feeds what the user types to the dispatcher and prints what the bot sent back."""

    def __init__(
        self, context: AppContext, *, out: TextIO = sys.stdout, ansi: bool = False
    ) -> None:
        self._context = context
        self._out = out
        self._ansi = ansi
        self._session = RecordingBotSession()
        self._bot = create_bot(CONSOLE_TOKEN, session=self._session)
        self._updates = UpdateBuilder()
        self._photo_dir = context.settings.data_dir / "console"
        self._photo_numbers = itertools.count(1)
        self._keyboards: dict[int, Message] = {}  # per chat: the bot message with its last keyboard
        self.users = SimulatedUsers(context.settings.admin_ids)
        self._profile: UserProfile | None = None  # the current user as the bot stored them
        self._demo = context.settings.llm_demo
        self._demo_llm = build_llm(context.settings.model_copy(update={"llm_base_url": LLM_DEMO}))
        self._dispatcher = self._build_dispatcher()

    def _build_dispatcher(self) -> Dispatcher:
        # The ids given the admin role here join ADMIN_IDS, for this console only.
        settings = self._context.settings.model_copy(update={"admin_ids": self.users.admin_ids})
        llm = self._demo_llm if self._demo else self._context.llm
        return create_dispatcher(replace(self._context, settings=settings, llm=llm))

    def prompt(self) -> str:
        """`you (id 100001, en, admin)> `: the language the bot speaks to this user."""
        user, profile = self.users.current, self._profile
        language = profile.language if profile else user.language
        admin = user.id in self.users.admin_ids or bool(profile and profile.is_admin)
        return f"you (id {user.id}, {language}{', admin' if admin else ''})> "

    def banner(self) -> str:
        settings = self._context.settings
        database = "DATABASE_URL" if settings.database_url else "the embedded PostgreSQL"
        user = self.users.current
        lines = [
            "Syntra console: the bot's real handlers and database, with this terminal as Telegram.",
            f"Database: {database}. Log: {shown(settings.log_dir / 'console.log')}.",
            f"You are {user.label()} (id {user.id}, language {user.language}). "
            "Send /start to begin; :help lists console commands, :quit leaves.",
        ]
        if self._demo:
            lines.append(DEMO_ON)
        elif not settings.llm_base_url:
            lines.append(
                "The AI is not configured (LLM_BASE_URL), so questions get a notice; "
                ":demo on answers them with an offline demo assistant."
            )
        return "\n".join(lines)

    def say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False when the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        if line.split(maxsplit=1)[0].lower() == ":photo":
            await self._send_file(line[len(":photo") :])
            return True
        if line.startswith(":"):
            return await self._command(line[1:].split())
        await self._feed(self._updates.message(line, user=self.users.current.telegram()))
        return True

    async def start(self) -> None:
        self.say(self.banner())
        await self._refresh_profile()

    async def close(self) -> None:
        await self._demo_llm.aclose()
        await self._context.close()

    async def _command(self, words: list[str]) -> bool:
        name, args = (words[0].lower(), words[1:]) if words else ("", [])
        if name.isdigit():
            name, args = "press", [name]
        match name, args:
            case "quit" | "q" | "exit", []:
                return False
            case "help" | "h" | "?", []:
                self.say(HELP)
            case "press", [number] if number.isdigit():
                await self._press(int(number))
            case "user", _:
                await self._switch_user(args)
            case "lang", [language] if language in LANGUAGES:
                self.users.current.language = language
                self.say(
                    f"Telegram language set to {language}. A user new to the bot starts in it; "
                    "one it already knows keeps their choice (/language changes it)."
                )
            case "lang", _:
                self.say(f"The bot speaks {' and '.join(LANGUAGES)}: :lang ru or :lang en.")
            case "admin", ["on" | "off" as state]:
                self.say(self.users.set_admin(state == "on"))
                self._dispatcher = self._build_dispatcher()
            case "demo", ["on" | "off" as state]:
                self._demo = state == "on"
                self._dispatcher = self._build_dispatcher()
                self.say(DEMO_ON if self._demo else DEMO_OFF)
            case _:
                self.say("Unknown console command; :help lists them.")
        return True

    async def _send_file(self, args: str) -> None:
        user = self.users.current.telegram()
        try:
            update = picture_update(self._updates, self._session, user, args)
        except ConsoleFileError as exc:
            self.say(str(exc))
            return
        await self._feed(update)

    async def _switch_user(self, args: list[str]) -> None:
        try:
            user = self.users.switch(parse_user_args(args))
        except UserArgsError as exc:
            self.say(str(exc))
            return
        await self._refresh_profile()
        self.say(f"Now acting as Telegram user {user.id}: {user.label()}.")

    async def _refresh_profile(self) -> None:
        """Read the current user as the bot stored them (language, admin flag), if it can."""
        try:
            self._profile = await self._context.users.get(self.users.current.id)
        except Exception:  # the database dropped out: the prompt falls back to the app's view
            log.warning("console could not read the user", exc_info=True)
            self._profile = None

    async def _press(self, number: int) -> None:
        message = self._keyboards.get(self.users.current.id)
        buttons = keyboard_buttons(message.reply_markup) if message else []
        if message is None or not buttons:
            self.say("There are no buttons to press.")
            return
        if not 1 <= number <= len(buttons):
            self.say(f"There is no button {number}: press 1 to {len(buttons)}.")
            return
        button = buttons[number - 1]
        if button.callback_data is not None:
            user = self.users.current.telegram()
            await self._feed(
                self._updates.callback(button.callback_data, user=user, message=message)
            )
        elif button.url:
            self.say(f"That button opens {button.url} (outside the chat).")
        else:
            self.say("That button does nothing in the console.")

    async def _feed(self, update: Update) -> None:
        self._session.answered.clear()
        try:
            await self._dispatcher.feed_update(self._bot, update)
        except Exception:
            log.exception("update failed in the console", update_id=update.update_id)
            self.say("⚠️ The bot failed on this update (the log has the details).")
        for method, result in self._session.answered:
            self._show(method, result)
        await self._refresh_profile()  # /language may have changed what the prompt shows

    def _show(self, method: TelegramMethod[Any], result: Any) -> None:
        photo = self._save_photo() if isinstance(method, SendPhoto | EditMessageMedia) else None
        text = render(method, ansi=self._ansi, photo=photo and shown(photo))
        chat_id = getattr(method, "chat_id", None)
        if text and chat_id is not None and str(chat_id) != str(self.users.current.id):
            text = f"→ to {chat_id}: {text}"  # e.g. a notification to the user an admin granted
        if text:
            self.say(text + "\n")
        if isinstance(method, _SHOWS_A_MESSAGE):
            self._remember_keyboard(result)

    def _remember_keyboard(self, message: Any) -> None:
        if not isinstance(message, Message):
            return
        chat = message.chat.id
        last = self._keyboards.get(chat)
        if isinstance(message.reply_markup, InlineKeyboardMarkup):
            self._keyboards[chat] = message
        elif last and last.message_id == message.message_id:
            del self._keyboards[chat]  # an edit took the buttons away

    def _save_photo(self) -> Path:
        photo = self._session.photos[-1]
        suffix = Path(photo.filename or "").suffix or ".png"
        path = self._photo_dir / f"photo-{next(self._photo_numbers)}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(photo.data)
        return path


# Calls whose answer is a message that may carry buttons.
_SHOWS_A_MESSAGE = (
    SendMessage,
    EditMessageText,
    EditMessageReplyMarkup,
    SendPhoto,
    EditMessageMedia,
)

# ------------------------------------------------------------------ entry point


def _chat(runner: asyncio.Runner, console: Console) -> None:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    while True:
        try:
            line = input(console.prompt())
            if not runner.run(console.handle(line)):
                return
        except (EOFError, KeyboardInterrupt):  # Ctrl-D / Ctrl-C
            print()
            return


def shown(path: Path) -> Path:
    """`path` relative to the working directory when it is under it (shorter to read)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def farewell(database_url: str | None) -> str:
    if database_url:
        return "Bye."
    # It serves every process of this checkout, so it outlives the console on purpose.
    return "Bye. The embedded PostgreSQL keeps running; ./manage.sh db stop stops it."


def main() -> int:
    # A bad setting or a database that is down ends in one line, not a traceback.
    return run_operator_command("console", _run)


def _run() -> int:
    settings = get_settings()
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format,
        log_file=settings.log_dir / "console.log",
        to_stderr=False,  # the terminal is the chat; the file gets everything
        secrets=secret_values(settings),
    )
    print("Starting the Syntra console (database, migrations)...", flush=True)
    context = build_context(settings)
    # One event loop for the whole chat; input() runs between its turns, so Ctrl-C just works.
    with asyncio.Runner() as runner:
        try:
            runner.run(prepare_database(context))
        except Exception:
            log.exception("console could not prepare the database")  # the details, in the file
            runner.run(context.close())
            raise
        ansi = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        console = Console(context, ansi=ansi)
        runner.run(console.start())
        try:
            _chat(runner, console)
        finally:
            runner.run(console.close())
    print(farewell(settings.database_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
