"""The Telegram users the console acts as: their names, app languages and admin roles.

Each simulated user is kept by id, so switching back and forth (`:user 100001`, `:user 200002`)
keeps every user's name, @username and Telegram language, and the admin role given with
`:admin on` stays with the id it was given to, as ADMIN_IDS would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiogram.types import User

from src.bot.updates import telegram_user

DEFAULT_USER_ID = 100_001
DEFAULT_NAME = "Console User"
DEFAULT_LANGUAGE = "en"

# What the admin commands accept as @username (src/services/admin_commands.py).
_USERNAME = re.compile(r"@([A-Za-z0-9_]{3,32})")
_MAX_NAME = 64  # Telegram's limit for a first name


class UserArgsError(ValueError):
    """`:user` arguments that do not read as `ID [NAME] [@username]`; the message says why."""


@dataclass
class SimulatedUser:
    id: int
    first_name: str = DEFAULT_NAME
    username: str | None = None
    language: str = DEFAULT_LANGUAGE  # the Telegram app's language, not the bot's choice

    def telegram(self) -> User:
        return telegram_user(
            self.id, self.language, first_name=self.first_name, username=self.username
        )

    def label(self) -> str:
        """`Alice (@alice)`, or the name alone."""
        return f"{self.first_name} (@{self.username})" if self.username else self.first_name


@dataclass(frozen=True)
class UserArgs:
    user_id: int
    first_name: str | None
    username: str | None


def parse_user_args(args: list[str]) -> UserArgs:
    """`ID [NAME ...] [@username]`: the name may have spaces; the @username comes last."""
    if not args or not args[0].isascii() or not args[0].isdigit() or int(args[0]) <= 0:
        raise UserArgsError("Usage: :user ID [NAME] [@username], e.g. :user 200002 Alice @alice")
    rest = args[1:]
    username = None
    if rest and rest[-1].startswith("@"):
        match = _USERNAME.fullmatch(rest.pop())
        if match is None:
            raise UserArgsError("A @username has 3-32 letters, digits or _, e.g. @alice_1.")
        username = match.group(1)
    name = " ".join(rest) or None
    if name is not None and len(name) > _MAX_NAME:
        raise UserArgsError(f"A name has at most {_MAX_NAME} characters.")
    return UserArgs(int(args[0]), name, username)


class SimulatedUsers:
    """Every user the console has acted as, and the admin roles given in the console."""

    def __init__(self, configured_admins: frozenset[int]) -> None:
        self._configured_admins = configured_admins
        self._console_admins: set[int] = set()
        self._users: dict[int, SimulatedUser] = {}
        self.current = self.switch(UserArgs(DEFAULT_USER_ID, None, None))

    def switch(self, args: UserArgs) -> SimulatedUser:
        """Act as `args.user_id`; a name or @username given replaces the stored one."""
        user = self._users.setdefault(args.user_id, SimulatedUser(args.user_id))
        if args.first_name is not None:
            user.first_name = args.first_name
        if args.username is not None:
            user.username = args.username
        self.current = user
        return user

    def known(self, user_id: int) -> SimulatedUser | None:
        return self._users.get(user_id)

    @property
    def admin_ids(self) -> frozenset[int]:
        """ADMIN_IDS plus the ids given the role with `:admin on`."""
        return self._configured_admins | self._console_admins

    def set_admin(self, on: bool) -> str:
        """Give or take the current user's admin role; returns what to tell the person."""
        user_id = self.current.id
        if on:
            self._console_admins.add(user_id)
            return f"User {user_id} is now an admin (for this console session)."
        self._console_admins.discard(user_id)
        if user_id in self._configured_admins:
            return f"User {user_id} stays an admin: the id is in ADMIN_IDS."
        return f"User {user_id} is no longer an admin."
