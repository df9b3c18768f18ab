"""What Telegram refuses, for the stand-ins of the Bot API (the in-process session, test fakes).

Telegram compares an edit with the message as it stands: the text after parsing (plain text
plus formatting entities, so `<b>x</b>` and `<strong>x</strong>` are the same) and the inline
keyboard. An edit that changes neither is refused with 400 and `NOT_MODIFIED`; a bot must
compare before editing, or answer the button without an edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
NO_MEDIA = "Bad Request: there is no media in the message to edit"

# Telegram's HTML tags and the entity each stands for (https://core.telegram.org/bots/api#html-style),
# as "tag:entity[:attribute]": a bare hyphenated literal under src/bot reads as a message id
# to the locale tests.
_TAGS = {
    spec.split(":")[0]: spec.split(":")[1:]
    for spec in [
        "b:bold",
        "strong:bold",
        "i:italic",
        "em:italic",
        "u:underline",
        "ins:underline",
        "s:strikethrough",
        "strike:strikethrough",
        "del:strikethrough",
        "tg-spoiler:spoiler",
        "a:text_link:href",
        "code:code:class",
        "pre:pre:class",
        "blockquote:blockquote",
        "tg-emoji:custom_emoji:emoji-id",
    ]
}
_SPOILER = next(tag for tag, (kind, *_) in _TAGS.items() if kind == "spoiler")

Entity = tuple[str, int, int, str | None]  # type, offset, length, url/emoji id/language
Content = tuple[str, tuple[Entity, ...]]


class _TelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.length = 0
        self.entities: list[Entity] = []
        self._open: list[tuple[str, int, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "span" and values.get("class") == _SPOILER:
            tag = _SPOILER
        attribute = _TAGS.get(tag, ["", ""])[1:]
        self._open.append((tag, self.length, values.get(attribute[0]) if attribute else None))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            name, start, extra = self._open[index]
            if name == tag or (tag == "span" and name == _SPOILER):
                del self._open[index]
                if name in _TAGS and self.length > start:
                    self.entities.append((_TAGS[name][0], start, self.length - start, extra))
                return

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.length += len(data)


def message_content(text: str, parse_mode: str | None, entities: Any = None) -> Content:
    """The text of a message as Telegram stores it: plain text plus its formatting."""
    if parse_mode is not None and parse_mode.lower() == "html":
        parser = _TelegramHtml()
        parser.feed(text)
        parser.close()
        return "".join(parser.text), tuple(sorted(parser.entities))
    given: list[Entity] = []
    for entity in entities or ():
        item = entity if isinstance(entity, dict) else entity.model_dump(exclude_none=True)
        extra = item.get("url") or item.get("custom_emoji_id") or item.get("language")
        given.append((str(item["type"]), int(item["offset"]), int(item["length"]), extra))
    return text, tuple(sorted(given))


def keyboard(markup: Any) -> Any:
    """An inline keyboard in a comparable form (None when the message has none)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        markup = markup.model_dump(exclude_none=True)
    rows = markup.get("inline_keyboard")
    if not rows:
        return None
    return tuple(tuple(tuple(sorted(b.items())) for b in row) for row in rows)


@dataclass
class MessageStore:
    """The text and keyboard of every message sent or edited, per (chat_id, message_id).

    Only messages this store has seen are compared: an edit of an unknown message (one sent
    before the store existed) is allowed and remembered.
    """

    refuse_no_op_edits: bool = True
    _messages: dict[tuple[int, int], tuple[Content | None, Any]] = field(default_factory=dict)

    def remember(self, chat_id: int, message_id: int, content: Content | None, markup: Any) -> None:
        self._messages[(chat_id, message_id)] = (content, keyboard(markup))

    def knows(self, chat_id: int, message_id: int) -> bool:
        return (chat_id, message_id) in self._messages

    def refusal(
        self, chat_id: int, message_id: int, content: Content | None, markup: Any
    ) -> str | None:
        """Telegram's error description for this edit, or None if Telegram would accept it.

        `content` None means "text unchanged" (editMessageReplyMarkup)."""
        known = self._messages.get((chat_id, message_id))
        if not self.refuse_no_op_edits or known is None:
            return None
        old_content, old_markup = known
        same_text = content is None or content == old_content
        if same_text and keyboard(markup) == old_markup:
            return NOT_MODIFIED
        return None

    def edited(self, chat_id: int, message_id: int, content: Content | None, markup: Any) -> None:
        old_content = self._messages.get((chat_id, message_id), (None, None))[0]
        self.remember(chat_id, message_id, content or old_content, markup)
