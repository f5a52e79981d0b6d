"""What a page may ask for: the server's parts, the signed-in visitor, a CSRF-checked form."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, cast
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from sparkjobs import store, supervisor
from sparkjobs.config import Settings
from sparkjobs.web import render, session

COOKIE = "sparkjobs_session"
SIGNIN_COOKIE = "sparkjobs_signin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """The page needs a signed-in visitor; the handler sends them to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageError(Exception):
    """A page that cannot be shown; the handler renders `message` with `status`."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_db(request: Request) -> store.Database:
    return cast(store.Database, request.app.state.db)


def get_supervisor(request: Request) -> supervisor.Supervisor:
    return cast(supervisor.Supervisor, request.app.state.supervisor)


@dataclass(frozen=True)
class Visitor:
    keys: session.Keys
    session: session.Session

    @property
    def csrf(self) -> str:
        return session.csrf_token(self.keys, self.session)


def get_visitor(request: Request) -> Visitor:
    """The signed-in visitor, else SignInRequired (which leads to the sign-in page)."""
    keys = session.load_keys(get_db(request))
    found = session.open_session(keys, request.cookies.get(COOKIE), int(time.time()))
    if found is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise SignInRequired(request.url.path + query)
    return Visitor(keys=keys, session=found)


async def checked_form(
    request: Request, visitor: Annotated[Visitor, Depends(get_visitor)]
) -> AsyncIterator[FormData]:
    """The posted form, once its CSRF token proved it comes from one of our pages."""
    form = await request.form()
    try:
        given = form.get(CSRF_FIELD)
        token = given if isinstance(given, str) else request.headers.get(CSRF_HEADER)
        if not session.csrf_ok(visitor.keys, visitor.session, token):
            raise PageError(
                403,
                "Form expired",
                "This form was not sent from a current sparkjobs page (its CSRF token is "
                "missing or wrong). Go back, reload the page and try again.",
            )
        yield form
    finally:
        await form.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[store.Database, Depends(get_db)]
SupervisorDep = Annotated[supervisor.Supervisor, Depends(get_supervisor)]
VisitorDep = Annotated[Visitor, Depends(get_visitor)]
FormDep = Annotated[FormData, Depends(checked_form)]


async def sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = "/signin?next=" + quote(render.local_path(exc.next_path), safe="/")
    if request.headers.get("HX-Request"):
        # A polled fragment: make htmx load the sign-in page as a whole page.
        return Response(status_code=200, headers={"HX-Redirect": target})
    return render.redirect(target)


async def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    context = {"title": exc.title, "message": exc.message}
    return render.page(request, "error.html", context, status=exc.status)
