"""Split long text for Telegram: each piece, once HTML-escaped, fits one message."""

from __future__ import annotations

from html import escape

TELEGRAM_TEXT_LIMIT = 4096


def split_escaped(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """HTML-escaped chunks of `text`, cut at paragraph, line or word boundaries when possible.

    Escaping happens per chunk (never cutting through an `&amp;`), and the limit applies to
    the escaped length, which is what Telegram counts.
    """
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if len(escape(rest)) <= limit:
            chunks.append(escape(rest))
            break
        cut = _fit(rest, limit)
        piece = rest[:cut]
        for sep in ("\n\n", "\n", " "):
            at = piece.rfind(sep)
            if at > cut // 2:
                piece = rest[:at]
                break
        chunks.append(escape(piece.rstrip()))
        rest = rest[len(piece) :].lstrip()
    return chunks


def _fit(text: str, limit: int) -> int:
    """The longest prefix length whose escaped form fits `limit` (at least 1)."""
    size = 0
    for index, char in enumerate(text):
        size += len(escape(char))
        if size > limit:
            return max(index, 1)
    return len(text)
