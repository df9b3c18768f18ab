"""Albums: Telegram delivers each picture of a media group as its own message; collect them.

The first part of an album to arrive waits until no further part came for `wait` seconds (or
all ten an album can hold are in) and then gets the whole album; the other parts are only
added. The store is this process's memory: with several webhook workers behind a load
balancer the parts of one album can reach different processes, and each would answer its share;
such a deployment needs the collection in a shared store (see docs/ANALYSIS.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiogram.types import Message

ALBUM_MAX_PARTS = 10  # Telegram's limit for one media group


@dataclass
class _Album:
    parts: dict[int, Message] = field(default_factory=dict)  # by message id (redelivery: once)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class AlbumCollector:
    def __init__(self, wait: float) -> None:
        self._wait = wait
        self._albums: dict[tuple[int, str], _Album] = {}

    async def collect(self, message: Message) -> list[Message] | None:
        """The album's parts in order, to the part that arrived first; None to the others."""
        assert message.media_group_id is not None
        key = (message.chat.id, message.media_group_id)
        album = self._albums.get(key)
        if album is not None:
            album.parts[message.message_id] = message
            album.arrived.set()
            return None
        album = self._albums[key] = _Album({message.message_id: message})
        try:
            while len(album.parts) < ALBUM_MAX_PARTS:
                album.arrived.clear()
                try:
                    await asyncio.wait_for(album.arrived.wait(), self._wait)
                except TimeoutError:
                    break
        finally:
            del self._albums[key]
        return [album.parts[number] for number in sorted(album.parts)]

    @property
    def collecting(self) -> int:
        return len(self._albums)
