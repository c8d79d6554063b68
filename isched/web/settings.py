"""Where the web app keeps its jobs, and its access token.

``--db`` is a SQLite file path (the default, ``isched.db``) or an SQLAlchemy URL
(``postgresql://...``). Job files (the tables a job ran on, its outputs) live in
``--files`` (default: ``DB.files/`` beside a SQLite file). The token is
``$ISCHED_TOKEN``, or the one stored beside the database (``DB.token``, mode 0600),
generated at first start.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything the app and its job runner need to know."""

    db_url: str
    files: Path
    token: str
    workers: int = 2
    """Jobs run at once; the rest wait in the queue."""
    solve_workers: int = 2
    """CP-SAT search workers of each job."""
    max_upload: int = 50 * MB
    """Largest request body (an upload), in bytes."""
    lease_seconds: float = 15.0
    """A running job whose server has not renewed its lease for this long is recovered."""
    poll_seconds: float = 0.2
    """How often the job runner looks at the queue and its worker processes."""

    @property
    def jobs_dir(self) -> Path:
        return self.files / "jobs"


def _is_url(db: str) -> bool:
    return "://" in db


def db_url(db: str) -> str:
    """The SQLAlchemy URL of ``db`` (a URL, or a SQLite file path)."""
    if _is_url(db):
        return db
    return f"sqlite:///{Path(db).resolve()}"


def token_path(db: str, files: Path) -> Path:
    """Where the generated token is kept: beside a SQLite file, else in the files folder."""
    return (
        files / "token" if _is_url(db) else Path(db).resolve().with_name(Path(db).name + ".token")
    )


def files_dir(db: str, files: Path | None) -> Path:
    if files is not None:
        return files.resolve()
    if _is_url(db):
        return Path("isched-files").resolve()
    return Path(db).resolve().with_name(Path(db).name + ".files")


def load_token(path: Path) -> tuple[str, bool]:
    """(token, generated now): ``$ISCHED_TOKEN``, the stored token, or a new one stored 0600."""
    given = os.environ.get("ISCHED_TOKEN", "").strip()
    if given:
        return given, False
    if path.exists():
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored, False
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    try:
        os.link(tmp, path)  # fails if another server stored one first
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip(), False
    finally:
        tmp.unlink()
    return token, True


def make_settings(
    db: str = "isched.db", files: Path | None = None, workers: int = 2, **extra: object
) -> tuple[Settings, bool]:
    """Settings for ``db``, and whether the token was generated just now."""
    folder = files_dir(db, files)
    if not _is_url(db):
        Path(db).resolve().parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    token, generated = load_token(token_path(db, folder))
    settings = Settings(db_url(db), folder, token, workers=workers, **extra)  # type: ignore[arg-type]
    return settings, generated
