"""Users: registration, profile refresh, language, referral links.

Referral rules (SPEC 6): only a brand-new user (created by the very update that carries the
link) can be referred; self-referral is refused; a link that would close a loop is refused.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.database import user_queries
from src.services.user_types import ReferralRefusal, ReferralResult, Registration, UserProfile

log = structlog.get_logger(__name__)

SUPPORTED_LANGUAGES = ("ru", "en")
REFERRAL_PREFIX = "ref_"
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (l/1, o/0, i)
LANGUAGE_MEMORY = 100_000  # users whose language the process remembers (about 10 MB)


def language_from_telegram(language_code: str | None) -> str:
    """Russian for `ru*` language codes, English for everything else."""
    return "ru" if (language_code or "").lower().startswith("ru") else "en"


def new_referral_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


class UserService:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._languages: OrderedDict[int, str] = OrderedDict()

    def known_language(self, telegram_id: int) -> str | None:
        """The language this process last read or wrote for the user, without a query: what
        an answer that must not wait on the database speaks (None: not seen yet)."""
        return self._languages.get(telegram_id)

    def _remember(self, telegram_id: int, language: str) -> None:
        self._languages[telegram_id] = language
        self._languages.move_to_end(telegram_id)
        if len(self._languages) > LANGUAGE_MEMORY:
            self._languages.popitem(last=False)

    async def register(
        self,
        *,
        telegram_id: int,
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
        referral_code: str | None = None,
    ) -> Registration:
        """Create the user on first contact, else refresh name and last-seen. Idempotent.

        `referral_code` (what followed `/start`, e.g. `ref_<code>`): the link is decided in the
        same transaction as the registration, so a failure between the two loses neither: both
        roll back, and the update delivered again finds the user still brand-new."""
        now = self._clock() if self._clock else None
        referral = None
        async with self._sessions() as session, session.begin():
            created = False
            for attempt in range(1, 6):
                try:
                    async with session.begin_nested():
                        created = await user_queries.insert_user_if_new(
                            session,
                            telegram_id=telegram_id,
                            username=username,
                            first_name=first_name,
                            language=language_from_telegram(language_code),
                            referral_code=new_referral_code(),
                            now=now,
                        )
                    break
                except IntegrityError:
                    # Random referral codes can clash (birthday odds at millions of users).
                    if attempt == 5:
                        raise
            if not created:
                await user_queries.touch_user(
                    session,
                    telegram_id=telegram_id,
                    username=username,
                    first_name=first_name,
                    now=now,
                )
            if referral_code is not None:
                referral = await self._link(session, telegram_id, referral_code, created)
            row = await user_queries.get_user(session, telegram_id)
        assert row is not None
        self._remember(telegram_id, row.language)
        if created:
            log.info("user registered", user_id=telegram_id, language=row.language)
        return Registration(user=UserProfile.of(row), created=created, referral=referral)

    async def attach_referrer(self, *, user_id: int, code: str, brand_new: bool) -> ReferralResult:
        """Link a brand-new user to the owner of `code`. The bonus is paid by PointsService."""
        async with self._sessions() as session, session.begin():
            return await self._link(session, user_id, code, brand_new)

    async def _link(
        self, session: AsyncSession, user_id: int, code: str, brand_new: bool
    ) -> ReferralResult:
        code = code.removeprefix(REFERRAL_PREFIX).strip().lower()
        referrer = await user_queries.find_by_referral_code(session, code) if code else None
        if referrer is None:
            return ReferralResult(None, ReferralRefusal.UNKNOWN_CODE)
        if referrer.telegram_id == user_id:
            return ReferralResult(None, ReferralRefusal.SELF)
        user = await user_queries.get_user(session, user_id)
        if user is None or not brand_new:
            return ReferralResult(None, ReferralRefusal.NOT_NEW)
        if user.referrer_id is not None:
            return ReferralResult(None, ReferralRefusal.ALREADY_REFERRED)
        if user_id in await user_queries.referrer_chain(session, referrer.telegram_id):
            return ReferralResult(None, ReferralRefusal.LOOP)
        user.referrer_id = referrer.telegram_id
        log.info("referral linked", user_id=user_id, referrer_id=referrer.telegram_id)
        return ReferralResult(referrer.telegram_id, None)

    async def set_language(self, *, user_id: int, language: str) -> None:
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        async with self._sessions() as session, session.begin():
            user = await user_queries.get_user(session, user_id)
            if user is None:
                raise LookupError(f"unknown user {user_id}")
            user.language = language
        self._remember(user_id, language)

    async def get(self, user_id: int) -> UserProfile | None:
        async with self._sessions() as session:
            row = await user_queries.get_user(session, user_id)
        return UserProfile.of(row) if row is not None else None
