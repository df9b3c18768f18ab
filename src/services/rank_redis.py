"""The leaderboard as a Redis sorted set: a user's exact rank in O(log n).

Member: the user id as 8 big-endian bytes (byte order = numeric order); score: -balance. Redis
orders by score, then by member bytes, which is exactly the leaderboard (balance desc, user id
asc), so ZRANK is the number of users ahead.

Every entry carries a version, the ledger id of the movement it reflects; an update applies
only if its version is newer, so updates from many processes may arrive in any order. Each
movement is sent right after it committed (`moved`): updates are gathered for 20 ms and go
as one call whose single argument packs 24 bytes per user (the client
then pays a few microseconds per movement). If a call fails, the process remembers the
first ledger id it could not send and the keeper (src/services/rank_service.py) replays the
ledger from there once Redis answers; a process that dies with updates unsent is covered by
the rebuild every process does when it starts, and by the periodic rebuild.

A rebuild loads a snapshot of the balance table into new keys while updates go to both old
and new keys, then swaps them in one step. Readers use the set only while it is built and a
keeper has checked in recently (`synced_at`); otherwise the caller counts in PostgreSQL.
Numbers travel as Lua doubles: exact for balances and ledger ids below 10^14.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Iterable

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

RECORD = struct.Struct(">Qqq")  # user id (the member's 8 bytes), score, version
SEND_EVERY = 0.02  # seconds updates are gathered before they go (off the callers' path)

# Records are read in slices and applied with one HMGET, one ZADD and one HSET per slice
# (a third less server time than three calls per record).
_SLICES = """
local function slices(data, each)
  local pos = 1
  while pos < #data do
    local ms, ss, vs, m, s, ver = {}, {}, {}
    while pos < #data and #ms < 500 do
      m, s, ver, pos = struct.unpack('>c8i8i8', data, pos)
      ms[#ms + 1] = m; ss[#ss + 1] = s; vs[#vs + 1] = ver
    end
    each(ms, ss, vs)
  end
end
local function write(z, v, zs, hs)
  if #zs > 0 then redis.call('ZADD', z, unpack(zs)) end
  if #hs > 0 then redis.call('HSET', v, unpack(hs)) end
end
"""

# KEYS: z, v, meta, build, z:new, v:new; ARGV: packed records
UPDATE = (
    _SLICES
    + """
local function apply(z, v, floor, ms, ss, vs)
  local cur, zs, hs = redis.call('HMGET', v, unpack(ms)), {}, {}
  for i = 1, #ms do
    if vs[i] > math.max(tonumber(cur[i]) or 0, floor) then
      zs[#zs + 1] = ss[i]; zs[#zs + 1] = ms[i]
      hs[#hs + 1] = ms[i]; hs[#hs + 1] = vs[i]
    end
  end
  write(z, v, zs, hs)
end
local base = redis.call('HGET', KEYS[3], 'base')
local build = redis.call('GET', KEYS[4])
local floor = tonumber(string.match(build or '0', '^%d+')) or 0
slices(ARGV[1], function(ms, ss, vs)
  if base then apply(KEYS[1], KEYS[2], tonumber(base), ms, ss, vs) end
  if build then apply(KEYS[5], KEYS[6], floor, ms, ss, vs) end
end)
return base and 1 or 0
"""
)

# KEYS: z:new, v:new; ARGV: floor, packed records (a snapshot chunk). A snapshot entry wins
# over an older update; its version is kept only when above the floor.
LOAD = (
    _SLICES
    + """
local floor = tonumber(ARGV[1])
slices(ARGV[2], function(ms, ss, vs)
  local cur, zs, hs = redis.call('HMGET', KEYS[2], unpack(ms)), {}, {}
  for i = 1, #ms do
    if vs[i] >= (tonumber(cur[i]) or 0) then
      zs[#zs + 1] = ss[i]; zs[#zs + 1] = ms[i]
      if vs[i] > floor then hs[#hs + 1] = ms[i]; hs[#hs + 1] = vs[i] end
    end
  end
  write(KEYS[1], KEYS[2], zs, hs)
end)
return 1
"""
)

# KEYS: z, v, meta, build, z:new, v:new; ARGV: floor, token
FINISH = """
if redis.call('GET', KEYS[4]) ~= ARGV[1] .. ':' .. ARGV[2] then return 0 end
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('RENAME', KEYS[5], KEYS[1])
else redis.call('DEL', KEYS[1]) end
if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('RENAME', KEYS[6], KEYS[2])
else redis.call('DEL', KEYS[2]) end
local t = redis.call('TIME')
local now = tostring(t[1]) .. '.' .. string.format('%06d', t[2])
redis.call('HSET', KEYS[3], 'base', ARGV[1], 'through', ARGV[1], 'synced_at', now,
           'built_at', now)
redis.call('DEL', KEYS[4])
return 1
"""

# KEYS: meta; ARGV: through (settled). Marks the set caught up with the ledger.
SYNCED = """
if not redis.call('HGET', KEYS[1], 'base') then return 0 end
local t = redis.call('TIME')
if tonumber(redis.call('HGET', KEYS[1], 'through')) < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'through', ARGV[1])
end
redis.call('HSET', KEYS[1], 'synced_at', tostring(t[1]) .. '.' .. string.format('%06d', t[2]))
return 1
"""

# KEYS: z, meta; ARGV: member, score, max age (s). The 0-based rank, or < 0 when unusable.
RANK = """
if not redis.call('HGET', KEYS[2], 'base') then return -1 end
local t = redis.call('TIME')
if tonumber(t[1]) + tonumber(t[2]) / 1e6
   - tonumber(redis.call('HGET', KEYS[2], 'synced_at') or '0') > tonumber(ARGV[3]) then
  return -2
end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return -3 end
return redis.call('ZRANK', KEYS[1], ARGV[1])
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def member(user_id: int) -> bytes:
    return user_id.to_bytes(8, "big")


def pack(entries: Iterable[tuple[int, int, int]]) -> bytes:
    """(user_id, balance, version) triples as the scripts read them."""
    return b"".join(RECORD.pack(u, -b, v) for u, b, v in entries if u >= 0)


class RedisRanks:
    def __init__(self, client: Redis, *, prefix: str = "syntra:") -> None:
        self._client = client
        p = f"{prefix}rank:"
        self.keys = [p + k for k in ("z", "v", "meta", "build", "z:new", "v:new")]
        self._update = client.register_script(UPDATE)
        self._load = client.register_script(LOAD)
        self._finish = client.register_script(FINISH)
        self._synced = client.register_script(SYNCED)
        self._rank = client.register_script(RANK)
        self._pending: dict[int, tuple[int, int]] = {}  # user -> (version, balance)
        self._sender: asyncio.Task[None] | None = None
        self.failures = 0  # updates that could not be sent
        self.replay_from: int | None = None  # the keeper replays the ledger after this id

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "syntra:") -> RedisRanks:
        return cls(
            Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0), prefix=prefix
        )

    # ------------------------------------------------------------------ writes

    def moved(self, user_id: int, balance: int, version: int) -> None:
        """A committed movement: queued, sent with the others waiting, never awaited."""
        if user_id < 0:
            return
        known = self._pending.get(user_id)
        if known is None or known[0] < version:
            self._pending[user_id] = (version, balance)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while self._pending:
            await asyncio.sleep(SEND_EVERY)  # gather a few batches' worth into one call
            batch, self._pending = self._pending, {}
            try:
                await self.update((u, b, v) for u, (v, b) in batch.items())
            except (RedisError, OSError) as exc:
                self.failures += len(batch)
                oldest = min(v for v, _ in batch.values()) - 1
                self.replay_from = min(self.replay_from or oldest, oldest)
                log.warning("rank index update failed", error=repr(exc), users=len(batch))

    async def flushed(self) -> None:
        """Wait until every update queued so far has been sent (or has failed)."""
        while self._sender is not None and not self._sender.done():
            await asyncio.wait([self._sender])

    async def update(self, entries: Iterable[tuple[int, int, int]]) -> bool:
        """Apply (user_id, balance, version) triples; False when the set is not built yet."""
        data = pack(entries)
        if not data:
            return True
        return bool(await self._update(keys=self.keys, args=[data]))

    async def mark_synced(self, through: int) -> bool:
        return bool(await self._synced(keys=[self.keys[2]], args=[through]))

    async def rebuild(self, through: int, board: AsyncIterator[list[tuple[int, int, int]]]) -> bool:
        """Load `board` (a snapshot as of the settled id `through`) and swap it in; False if
        another process is rebuilding."""
        build, z_new, v_new = self.keys[3:]
        token = f"{id(self):x}{asyncio.get_running_loop().time():.6f}"
        if not await self._client.set(build, f"0:{token}", nx=True, ex=900):
            return False
        try:
            # Leftovers of a rebuild that died; updates from now on reach the new keys too.
            await self._client.delete(z_new, v_new)
            await self._client.set(build, f"{through}:{token}", xx=True, ex=900)
            async for chunk in board:
                await self._load(keys=[z_new, v_new], args=[through, pack(chunk)])
            done = await self._finish(keys=self.keys, args=[through, token])
        except BaseException:
            await self._client.delete(build)
            raise
        return bool(done)

    # ------------------------------------------------------------------ reads

    async def rank(self, user_id: int, balance: int, *, max_age: float) -> int | None:
        """The exact 1-based rank, or None when the set cannot answer it exactly now."""
        if user_id < 0 or balance <= 0:
            return None  # users without points are not all in the set
        value = int(
            await self._rank(
                keys=[self.keys[0], self.keys[2]], args=[member(user_id), -balance, max_age]
            )
        )
        return None if value < 0 else value + 1

    async def built_age(self) -> float | None:
        """Seconds since the set was last rebuilt; None if it is not built."""
        built = (await self.meta()).get("built_at")
        if built is None:
            return None
        seconds, micros = await self._client.time()
        return seconds + micros / 1e6 - float(built)

    async def meta(self) -> dict[str, str]:
        raw = await self._client.hgetall(self.keys[2])
        return {_text(k): _text(v) for k, v in raw.items()}

    async def delete_keys(self) -> None:
        """Drop the index (it answers nothing until rebuilt)."""
        await self._client.delete(*self.keys)

    async def aclose(self) -> None:
        if self._sender is not None and not self._sender.done():
            await asyncio.wait([self._sender], timeout=5)
        await self._client.aclose()
