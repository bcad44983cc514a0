"""The SSE parser on tricky input: what the format allows, however the bytes are cut."""

from __future__ import annotations

import pytest

from screengate.client.sse import SseComment, SseItem, SseMessage, SseParser


def parse(*chunks: bytes) -> tuple[list[SseItem], SseParser]:
    parser = SseParser()
    items = [item for chunk in chunks for item in parser.feed(chunk)]
    return items, parser


def messages(*chunks: bytes) -> list[SseMessage]:
    return [i for i in parse(*chunks)[0] if isinstance(i, SseMessage)]


SIGNED_OUT = (
    b': connected\n\nevent: signed_out\nid: n-1\ndata: {"reason": "signed_out_remotely"}\n\n'
)


def test_a_named_event_with_an_id_is_dispatched_at_the_blank_line() -> None:
    items, parser = parse(SIGNED_OUT)

    assert items == [
        SseComment("connected"),
        SseMessage("signed_out", '{"reason": "signed_out_remotely"}', "n-1"),
    ]
    assert parser.last_event_id == "n-1"


def test_nothing_is_dispatched_before_the_blank_line() -> None:
    assert messages(b"event: signed_out\ndata: {}\n") == []


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_the_same_messages_come_out_however_the_bytes_are_cut(size: int) -> None:
    stream = SIGNED_OUT.replace(b"\n", b"\r\n") + "data: caf\u00e9 \u2603\r\n\r\n".encode()
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]

    assert messages(*chunks) == messages(stream)
    assert messages(*chunks)[-1].data == "caf\u00e9 \u2603"


def test_data_lines_join_with_newlines() -> None:
    assert messages(b"data: first\ndata:second\ndata\ndata:  indented\n\n") == [
        SseMessage("message", "first\nsecond\n\n indented", None)
    ]


@pytest.mark.parametrize("ending", [b"\n", b"\r", b"\r\n"])
def test_lines_may_end_in_lf_cr_or_crlf(ending: bytes) -> None:
    stream = ending.join([b"event: stream_ended", b"data: a", b"data: b", b"", b""])

    assert messages(stream) == [SseMessage("stream_ended", "a\nb", None)]


def test_a_crlf_split_between_chunks_is_one_line_break() -> None:
    assert messages(b"data: a\r", b"\n", b"\r", b"\ndata: b\r\n\r\n") == [
        SseMessage("message", "a", None),
        SseMessage("message", "b", None),
    ]


def test_comments_are_reported_and_do_not_disturb_an_event() -> None:
    items, _ = parse(b": keep-alive\ndata: a\n:between\ndata: b\n\n")

    assert items == [
        SseComment("keep-alive"),
        SseComment("between"),
        SseMessage("message", "a\nb", None),
    ]


def test_an_id_without_data_dispatches_nothing_but_is_remembered() -> None:
    items, parser = parse(b"id: n-7\n\n")

    assert items == []
    assert parser.last_event_id == "n-7"
    assert messages(b"id: n-7\n\ndata: later\n\n") == [SseMessage("message", "later", "n-7")]


def test_an_empty_id_resets_the_last_event_id_and_one_with_nul_is_ignored() -> None:
    _, parser = parse(b"id: n-1\n\nid\n\n")
    assert parser.last_event_id == ""
    _, parser = parse(b"id: n-1\n\nid: a\0b\n\n")
    assert parser.last_event_id == "n-1"


def test_event_type_does_not_leak_into_the_next_event() -> None:
    assert [m.event for m in messages(b"event: signed_out\n\ndata: x\n\n")] == ["message"]


def test_retry_takes_only_digits_and_unknown_fields_are_ignored() -> None:
    _, parser = parse(b"retry: 2000\nretry: soon\nfoo: bar\n\n")
    assert parser.retry_ms == 2000


def test_only_one_space_after_the_colon_is_dropped() -> None:
    assert messages(b"data:  two spaces\n\n")[0].data == " two spaces"


def test_a_leading_byte_order_mark_is_skipped() -> None:
    assert messages(b"\xef\xbb\xbfdata: x\n\n") == [SseMessage("message", "x", None)]


def test_an_unfinished_event_at_the_end_of_the_stream_is_dropped() -> None:
    assert messages(b"data: complete\n\ndata: cut off") == [SseMessage("message", "complete", None)]


def test_form_feeds_and_unicode_line_separators_are_data_not_line_breaks() -> None:
    assert messages("data: a\u2028b\x0cc\x85d\n\n".encode()) == [
        SseMessage("message", "a\u2028b\x0cc\x85d", None)
    ]
