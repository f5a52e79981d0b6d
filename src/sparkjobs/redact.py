"""Masking secrets in text: run logs, events, error messages, CLI output.

Pure: no I/O. Which secrets are masked (a decision, kept here in one place):

- every secret that is not empty or whitespace-only, however short. A one-letter
  secret turns every such letter in a log into ``***``: ugly, but a log that
  reads badly is better than a secret shown;
- also the secret with surrounding whitespace stripped, because a secret read
  from a file often ends in a newline that the job does not print;
- the password of any ``scheme://user:password@host`` URL, secret or not.

Overlapping secrets are masked as one run of ``***``: with secrets ``abcd`` and
``cdef``, the text ``abcdef`` becomes ``***`` and shows no part of either.
Encoded forms (base64, URL-quoted) of a secret are not recognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

MASK = "***"

#: scheme://user:password@ ; the password is everything up to the '@' that
#: ends the authority (no '/', '@' or whitespace inside it).
#: Lengths are bounded so a long run of letters costs linear time, not quadratic.
_URL_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s:/@]{0,256}:)[^\s/@]{1,1024}(@)"
)

#: mask_stream emits text up to a line end when it can, so that a URL (masked
#: by a pattern, not by a known value) is seen whole; it holds back at most
#: this much text that has no line end.
_MAX_HELD = 64 * 1024


def mask_url_passwords(text: str) -> str:
    """Replace the password in every ``scheme://user:password@`` with ``***``."""
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<2>", text)


def _variants(secrets: Iterable[str]) -> list[str]:
    found = {v for s in secrets for v in (s, s.strip()) if v.strip()}
    return sorted(found, key=len, reverse=True)


class Redactor:
    """Masks a fixed set of secret values in text.

    ``mask`` works on a whole text; ``mask_stream`` on a text that arrives in
    chunks, such that a secret split between two chunks is still masked.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = _variants(secrets)
        self._longest = len(self._secrets[0]) if self._secrets else 0

    def __repr__(self) -> str:  # never the values themselves
        return f"Redactor({len(self._secrets)} values)"

    def mask(self, text: str) -> str:
        """The text with every secret occurrence and URL password replaced by ``***``."""
        return mask_url_passwords(self._mask_values(text, self._covered(text)))

    def mask_stream(self, chunks: Iterable[str]) -> Iterator[str]:
        """Mask text arriving in chunks; the pieces yielded join to ``mask`` of the whole.

        Holds back the last ``longest secret - 1`` characters of each chunk (and a
        partial line, up to 64 KiB) until the next chunk shows whether a secret
        or URL continues there.
        """
        held = ""
        for chunk in chunks:
            held += chunk
            covered = self._covered(held)
            cut = self._safe_cut(held, covered)
            if cut > 0:
                yield mask_url_passwords(self._mask_values(held[:cut], covered[:cut]))
                held = held[cut:]
        if held:
            yield self.mask(held)

    def _covered(self, text: str) -> list[bool]:
        """For each character: is it part of some secret occurrence?"""
        covered = [False] * len(text)
        for secret in self._secrets:
            start = text.find(secret)
            while start >= 0:
                covered[start : start + len(secret)] = [True] * len(secret)
                start = text.find(secret, start + 1)
        return covered

    @staticmethod
    def _mask_values(text: str, covered: list[bool]) -> str:
        out: list[str] = []
        for i, char in enumerate(text):
            if not covered[i]:
                out.append(char)
            elif i == 0 or not covered[i - 1]:
                out.append(MASK)
        return "".join(out)

    def _safe_cut(self, text: str, covered: list[bool]) -> int:
        """How much of text can be emitted now without splitting a secret or a line."""
        # A secret that continues in the next chunk starts in the last longest-1 chars.
        limit = len(text) - max(self._longest - 1, 0)
        line_end = text.rfind("\n", 0, max(limit, 0)) + 1
        cut = line_end if line_end or limit < _MAX_HELD else limit
        # Never split a masked run: its tail alone would no longer match.
        while 0 < cut < len(text) and covered[cut] and covered[cut - 1]:
            cut -= 1
        return cut
