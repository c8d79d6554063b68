"""The coordinator's web app: ``create_app(settings)`` builds it; ``isched serve`` runs it.

The app holds the job store and the job runner (started with the app, stopped
with it). Only ``GET /health``, the login form and the page assets (``/static``:
code, no data) answer without the token; the OpenAPI docs are at ``/docs``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from isched.web import pages
from isched.web.api import router
from isched.web.auth import (
    COOKIE,
    SESSION_SECONDS,
    LoginRequired,
    require_token,
    session_value,
    token_ok,
    wants_html,
)
from isched.web.jobs import sweep
from isched.web.runner import Runner
from isched.web.settings import Settings
from isched.web.store import JobStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
STATIC = Path(__file__).with_name("static")
PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


class BodyLimit:
    """Refuse a request body over ``limit`` bytes with 413, saying the limit."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit

    def _refusal(self, scope: Scope) -> Response:
        """413, saying the limit; for a browser a page with the way back to its form."""
        mb = self.limit / (1024 * 1024)
        limit = f"{mb:g} MB" if mb >= 1 else f"{self.limit} bytes"
        detail = f"upload too large: the limit is {limit}"
        request = Request(scope)
        if wants_html(request):
            words = (f"The upload is over the limit of {limit}, so nothing was read or "
                     "stored. Go back and upload smaller tables (a .zip is smaller).")  # fmt: skip
            return pages.problem_page(request, "Upload too large", words, 413)
        return JSONResponse({"detail": detail}, 413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"").decode()
        if length.isdigit() and int(length) > self.limit:
            await self._refusal(scope)(scope, receive, send)
            return
        seen = 0
        started = over = False

        async def counted() -> Message:
            # Past the limit the app is told the client left: whatever it answers to
            # the cut-off body (a form parser's 400, say) is replaced by the 413.
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                over = True
                return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if over and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refusal(scope)(scope, receive, send)


class SecurityHeaders:
    """Headers on every answer: no caching (personal data), no sniffing, no framing, and a
    content policy on the pages (not on /docs: Swagger UI needs its inline script)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Cache-Control", "no-store")
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"  # back_to reads it; never leaves
                headers["X-Frame-Options"] = "DENY"
                html = headers.get("content-type", "").startswith("text/html")
                if html and scope["path"] != "/docs":
                    headers["Content-Security-Policy"] = PAGE_POLICY
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(settings: Settings, run_jobs: bool = True) -> FastAPI:
    """The app over ``settings``; ``run_jobs=False`` serves without running any job."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.jobs_dir.mkdir(parents=True, exist_ok=True)
        store = JobStore(settings.db_url)
        sweep(settings, store)
        runner = Runner(store, settings)
        app.state.store = store
        app.state.runner_wake = runner.wake
        if run_jobs:
            runner.start()
        try:
            yield
        finally:
            if run_jobs:
                runner.stop()
            store.engine.dispose()

    app = FastAPI(
        title="isched",
        summary="Interview scheduling: upload a snapshot, get a conflict-free calendar.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def form_problem(request: Request, exc: RequestValidationError) -> Response:
        """A browser's form sent without its fields, or a bad query: a page, not JSON."""
        if not wants_html(request):
            return await request_validation_exception_handler(request, exc)
        parts = [f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors() if e.get("loc")]
        detail = "; ".join(parts) or "the form is incomplete"
        return pages.problem_page(request, "The form is incomplete", detail, 422)

    @app.exception_handler(StarletteHTTPException)
    async def not_found_page(request: Request, exc: StarletteHTTPException) -> Response:
        """A browser's 404 is a page with the way back; every other answer stays JSON."""
        if exc.status_code == 404 and wants_html(request):
            return pages.not_found_page(request, str(exc.detail))
        return await http_exception_handler(request, exc)

    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=settings.max_upload)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/health", summary="200 when the server answers (no token needed)")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False, dependencies=[Depends(require_token)])
    def home(request: Request) -> Response:
        store = request.app.state.store
        return pages.jobs_page(request, store.newest_first(), 0, store.count())

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> Response:
        return pages.login_page(request, next)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"
    ) -> Response:
        if not token_ok(settings.token, token.strip()):
            return pages.login_page(request, next, wrong=True)
        local = next.startswith("/") and not next.startswith(("//", "/\\"))
        target = next if local else "/"  # never off to another site
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, session_value(settings.token), max_age=SESSION_SECONDS,
                            httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")  # fmt: skip
        return response

    @app.get("/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_token)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(require_token)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="isched API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    return app
