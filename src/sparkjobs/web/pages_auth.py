"""Sign in with the admin token, sign out."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from sparkjobs.web import forms, render, session
from sparkjobs.web.deps import COOKIE, SIGNIN_COOKIE, DbDep, FormDep, PageError

router = APIRouter()


def _set_cookie(request: Request, response: Response, name: str, value: str, age: int) -> None:
    # Secure only over https: on plain http://127.0.0.1 a Secure cookie would never come back.
    secure = request.url.scheme == "https"
    response.set_cookie(
        name, value, max_age=age, path="/", httponly=True, samesite="strict", secure=secure
    )


def _clear_cookie(request: Request, response: Response, name: str) -> None:
    secure = request.url.scheme == "https"
    response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=secure)


def _signin_page(request: Request, next_path: str, form: forms.JobForm) -> Response:
    token = session.new_signin_token()
    context = {"form": form, "next": render.local_path(next_path), "signin_token": token}
    response = render.page(request, "signin.html", context, status=401 if form.errors else 200)
    _set_cookie(request, response, SIGNIN_COOKIE, token, 3600)
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, db: DbDep, next: str = "/jobs") -> Response:
    keys = session.load_keys(db)
    if session.open_session(keys, request.cookies.get(COOKIE), int(time.time())):
        return render.redirect(render.local_path(next))
    return _signin_page(request, next, forms.JobForm(values={}))


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    db: DbDep,
    token: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/jobs",
) -> Response:
    if not session.signin_token_ok(request.cookies.get(SIGNIN_COOKIE), csrf_token):
        raise PageError(
            403,
            "Sign-in form expired",
            "This sign-in form was not sent from this server's sign-in page. Open the sign-in "
            "page again (cookies must be allowed) and try once more.",
        )
    keys = session.load_keys(db)
    if not session.token_matches(keys, token):
        form = forms.JobForm(values={})
        form.errors.add("token", "That is not the admin token; check it and try again.")
        return _signin_page(request, next, form)
    response = render.redirect(render.local_path(next))
    cookie = session.new_session(keys, int(time.time()))
    _set_cookie(request, response, COOKIE, cookie, session.LIFETIME_SECONDS)
    _clear_cookie(request, response, SIGNIN_COOKIE)
    return response


@router.post("/signout")
def signout(request: Request, _: FormDep) -> Response:
    response = render.redirect("/signin")
    _clear_cookie(request, response, COOKIE)
    return response
