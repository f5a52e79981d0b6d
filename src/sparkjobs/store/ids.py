"""Identifiers the store hands out."""

from __future__ import annotations

import secrets


def new_run_id() -> str:
    """12 lowercase hex characters: short enough to type, random enough never to collide."""
    return secrets.token_hex(6)
