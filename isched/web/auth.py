"""Access: a bearer token for the API, a session cookie (set by the login form) for pages.

The cookie holds when it was issued and an HMAC of that time with the token, not
the token; it is HttpOnly and SameSite=Strict, so no other site's page can send it,
and it lasts ``SESSION_SECONDS`` (a copied cookie stops working by itself).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

COOKIE = "isched_session"
SESSION_SECONDS = 12 * 3600
"""How long a login lasts: a working day."""
bearer = HTTPBearer(auto_error=False, description="The server's token ($ISCHED_TOKEN).")


class LoginRequired(Exception):
    """A person's browser without a session: send it to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def session_value(token: str, issued: int | None = None) -> str:
    """The cookie for a login at ``issued`` (Unix seconds; default now): ``issued.HMAC``."""
    issued = int(time.time()) if issued is None else issued
    message = f"isched session {issued}".encode()
    return f"{issued}.{hmac.new(token.encode(), message, hashlib.sha256).hexdigest()}"


def session_ok(token: str, cookie: str, now: float | None = None) -> bool:
    """A cookie this server issued less than ``SESSION_SECONDS`` ago."""
    issued, _, _ = cookie.partition(".")
    if not issued.isdigit() or len(issued) > 12:
        return False
    age = (time.time() if now is None else now) - int(issued)
    fresh = 0 <= age < SESSION_SECONDS + 60  # a minute for clocks
    return fresh and secrets.compare_digest(cookie, session_value(token, int(issued)))


def token_ok(token: str, given: str) -> bool:
    return secrets.compare_digest(token.encode(), given.encode())


def authorized(request: Request) -> bool:
    token: str = request.app.state.settings.token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given and token_ok(token, given.strip()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and session_ok(token, cookie)


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not a script asking for JSON)."""
    return "text/html" in request.headers.get("accept", "")


def back_to(request: Request) -> str:
    """Where a browser goes after logging in: the page it asked for (with its query), or
    for a form sent without a session (say, logged out in another tab) the page the form
    was on, when that is a page of this server."""
    if request.method == "GET":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    same = referer.netloc == request.url.netloc and referer.path.startswith("/")
    return referer.path if same and not referer.path.startswith("//") else "/"


async def require_token(
    request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> None:
    """Dependency of every route but /health and /login: 401, or the login form for a page.

    A coroutine that does no I/O, so checking a request never waits for a thread.
    """
    if authorized(request):
        return
    if wants_html(request):
        raise LoginRequired(back_to(request))
    raise HTTPException(
        401, "missing or wrong token (Authorization: Bearer TOKEN)", {"WWW-Authenticate": "Bearer"}
    )
