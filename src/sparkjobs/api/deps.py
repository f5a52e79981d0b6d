"""Typed dependencies: what a route may ask for, taken from the app's state."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from sparkjobs import store, supervisor
from sparkjobs.api.auth import Principal, authenticate
from sparkjobs.config import Settings


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_db(request: Request) -> store.Database:
    return cast(store.Database, request.app.state.db)


def get_supervisor(request: Request) -> supervisor.Supervisor:
    return cast(supervisor.Supervisor, request.app.state.supervisor)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[store.Database, Depends(get_db)]
SupervisorDep = Annotated[supervisor.Supervisor, Depends(get_supervisor)]
CurrentUser = Annotated[Principal, Depends(authenticate)]
