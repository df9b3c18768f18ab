"""split_escaped: long AI answers cut into Telegram-sized, HTML-escaped messages."""

from __future__ import annotations

from html import escape, unescape

import pytest

from src.bot.text_split import TELEGRAM_TEXT_LIMIT, split_escaped


def assert_well_formed(chunks: list[str], limit: int) -> None:
    for chunk in chunks:
        assert 0 < len(chunk) <= limit
        assert escape(unescape(chunk)) == chunk  # escaped, and no entity cut in half
        assert chunk == chunk.strip()


def test_limit_is_telegrams() -> None:
    assert TELEGRAM_TEXT_LIMIT == 4096


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello", ["Hello"]),
        ("  padded\n", ["padded"]),
        ("a < b & c > d", ["a &lt; b &amp; c &gt; d"]),
        ('say "hi"', ["say &quot;hi&quot;"]),
        ("", []),
        (" \n\n ", []),
    ],
)
def test_short_text_is_one_escaped_chunk(text: str, expected: list[str]) -> None:
    assert split_escaped(text) == expected


def test_exactly_the_limit_fits_one_message() -> None:
    assert split_escaped("x" * 4096) == ["x" * 4096]
    assert split_escaped("x" * 4097) == ["x" * 4096, "x"]


def test_limit_counts_the_escaped_length() -> None:
    text = "&" * 1000  # 5000 characters once escaped
    chunks = split_escaped(text)

    assert_well_formed(chunks, 4096)
    assert [len(c) for c in chunks] == [4095, 905]  # 819 and 181 "&amp;"
    assert "".join(unescape(c) for c in chunks) == text


def test_prefers_paragraph_then_line_then_word_boundaries() -> None:
    assert split_escaped("aaaa bbbb\n\ncccc", limit=12) == ["aaaa bbbb", "cccc"]
    assert split_escaped("aaaa\nbbbb cccc", limit=12) == ["aaaa\nbbbb", "cccc"]
    assert split_escaped("aaaa bbbb cccc", limit=12) == ["aaaa bbbb", "cccc"]


def test_paragraph_boundary_wins_over_a_later_line_break() -> None:
    text = "p" * 60 + "\n\n" + "l" * 20 + "\n" + "w" * 30
    assert split_escaped(text, limit=100) == ["p" * 60, "l" * 20 + "\n" + "w" * 30]


def test_a_boundary_too_early_is_not_used() -> None:
    """Cutting at a separator in the first half would waste most of a message."""
    text = "ab " + "x" * 20
    assert split_escaped(text, limit=10) == ["ab xxxxxxx", "xxxxxxxxxx", "xxx"]


def test_long_word_is_cut_hard() -> None:
    text = "y" * 25
    assert split_escaped(text, limit=10) == ["y" * 10, "y" * 10, "y" * 5]


def test_entities_are_never_split() -> None:
    text = "a" * 8 + "&<>" * 5
    chunks = split_escaped(text, limit=10)

    assert_well_formed(chunks, 10)
    assert "".join(unescape(c) for c in chunks) == text


def test_long_answer_keeps_every_word_in_order() -> None:
    words = [f"w{i}<&>" for i in range(4000)]
    text = "\n\n".join(" ".join(words[i : i + 50]) for i in range(0, len(words), 50))

    chunks = split_escaped(text)

    assert len(chunks) >= 8
    assert_well_formed(chunks, 4096)
    assert " ".join(unescape(c) for c in chunks).split() == words


def test_cyrillic_and_emoji_are_kept() -> None:
    text = ("Биткоин 📈 растёт. " * 400).strip()
    chunks = split_escaped(text)

    assert len(chunks) == 2
    assert_well_formed(chunks, 4096)
    assert " ".join(chunks).split() == text.split()
