from __future__ import annotations

import itertools

import pytest

from sparkjobs.redact import Redactor, mask_url_passwords


@pytest.mark.parametrize(
    ("secrets", "text", "expected"),
    [
        (["hunter2"], "password is hunter2.", "password is ***."),
        (["hunter2"], "hunter2hunter2 and hunter2", "*** and ***"),
        (["abc", "abcdef"], "x abcdef y abc", "x *** y ***"),  # longest wins, no tail shown
        (["abcd", "cdef"], "abcdef", "***"),  # overlapping secrets: no part of either
        (["abcd", "cdef"], "xxabcdefyy", "xx***yy"),
        (["aaa"], "aaaa", "***"),  # overlapping occurrences of one secret
        (["s3cr3t\n"], "token=s3cr3t done", "token=*** done"),  # stripped form masked too
        (["", "   ", "\n"], "nothing to hide   \n", "nothing to hide   \n"),  # blank: ignored
        (["x"], "xyx", "***y***"),  # short secrets are masked too (decided: safety first)
        ([], "plain", "plain"),
        (["p@ss"], "https://u:p@ss@host/x", "https://u:***@host/x"),
        (["$(rm -rf /)"], "arg $(rm -rf /) end", "arg *** end"),  # regex metacharacters
    ],
)
def test_mask(secrets: list[str], text: str, expected: str) -> None:
    assert Redactor(secrets).mask(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://bob:pa55@example.com/r.git", "https://bob:***@example.com/r.git"),
        (
            "fetch git+ssh://u:p@h:22/x and http://a:b@c",
            "fetch git+ssh://u:***@h:22/x and http://a:***@c",
        ),
        ("https://example.com/no/password", "https://example.com/no/password"),
        ("https://token@example.com/x", "https://token@example.com/x"),  # no password part
        ("postgresql://user:pw@db:5432/app", "postgresql://user:***@db:5432/app"),
    ],
)
def test_mask_url_passwords(text: str, expected: str) -> None:
    assert mask_url_passwords(text) == expected
    assert Redactor().mask(text) == expected


def _chunked(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_stream_never_leaks_a_secret_split_across_chunks(size: int) -> None:
    secrets = ["topsecret", "secretive", "ab"]
    text = "line1 topsecret\nsecretive x ab\nsecretopsecretive https://u:pw@h/x\nend ab"
    redactor = Redactor(secrets)
    pieces = list(redactor.mask_stream(_chunked(text, size)))
    joined = "".join(pieces)
    assert joined == redactor.mask(text)
    for piece in pieces:
        assert "topsecret" not in piece and "secretive" not in piece
    assert "pw" not in joined and "ab" not in joined


def test_stream_every_split_of_a_short_text() -> None:
    redactor = Redactor(["abcd", "cdef"])
    text = "xabcdefyabcdz"
    for i, j in itertools.combinations(range(1, len(text)), 2):
        chunks = [text[:i], text[i:j], text[j:]]
        assert "".join(redactor.mask_stream(chunks)) == "x***y***z"


def test_stream_emits_whole_lines_before_the_end() -> None:
    redactor = Redactor(["secret"])
    chunks = ["one secret\n", "line two\n", "line three\n", "four"]
    pieces = list(redactor.mask_stream(chunks))
    assert pieces[0] == "one ***\n"  # out before the stream ends
    assert all(p.endswith("\n") for p in pieces[:-1])  # a URL is never cut in two
    assert "".join(pieces) == "one ***\nline two\nline three\nfour"


def test_stream_without_line_ends_is_bounded() -> None:
    redactor = Redactor(["k"])
    pieces = list(redactor.mask_stream(["a" * 50_000, "a" * 50_000, "k"]))
    assert len(pieces) >= 2  # the held text did not grow without bound
    assert "".join(pieces) == "a" * 100_000 + "***"


def test_repr_never_shows_values() -> None:
    assert "hunter2" not in repr(Redactor(["hunter2"]))
