"""Server settings, read from SPARKJOBS_* environment variables.

Every setting has a default that works on one machine: SQLite and logs under
./data, the local Spark backend, and a server bound to 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPARKJOBS_", frozen=True, extra="ignore")

    data_dir: Path = Path("data")
    #: SQLAlchemy URL; default is SQLite under data_dir.
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    #: Admin token; when unset one is generated on first start and stored hashed.
    admin_token: SecretStr | None = None
    #: Key for secrets at rest (urlsafe base64 Fernet key); else data_dir/secret.key.
    secret_key: SecretStr | None = None
    #: Public URL of this server, used in alert links.
    public_url: str | None = None

    # Alerts: email goes through this SMTP server; none configured means email alerts fail.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "sparkjobs@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    #: Upgrade the connection with STARTTLS (port 587 usually) before logging in.
    smtp_starttls: bool = False
    #: Targets that get every job's failure alerts, e.g. [{"email": "ops@example.com"}].
    alert_default_targets: list[dict[str, str]] = Field(default_factory=list)

    default_master: str = "local[*]"
    default_backend: str = "local"
    #: Server-side directories a job's {"type": "path"} source may read from.
    allowed_source_dirs: list[Path] = Field(default_factory=list)
    #: Spark conf keys (or prefixes ending in '.') a job may set although the server guards
    #: them.
    allowed_conf_keys: list[str] = Field(default_factory=list)
    max_upload_bytes: int = 512 * 1024 * 1024
    #: Largest file a url source may download.
    max_download_bytes: int = 1024 * 1024 * 1024
    #: Time limit of one download or git fetch.
    fetch_timeout_seconds: float = 300.0
    #: Time limit of a git source's build command.
    build_timeout_seconds: float = 1800.0
    #: Let git sources use file:// URLs and plain paths (off: a job could read the server's disk).
    allow_local_git: bool = False

    max_concurrent_runs: int = 4
    #: Seconds between SIGTERM and SIGKILL when a run is stopped.
    stop_grace_seconds: float = 10.0
    #: How often the supervisor looks at active runs.
    poll_interval_seconds: float = 0.2
    log_retention_days: int = 30
    #: How often the scheduler looks for due slots at most (it also wakes at the next slot).
    scheduler_tick_seconds: float = 1.0
    #: How long a server holds a schedule it is deciding; another server takes it after that.
    schedule_lease_seconds: float = 30.0
    #: A local[*] driver never logs its application id; its UI's REST API tells, but the first
    #: question makes the driver start its REST layer, which costs a short job about 10% of
    #: its time. So the question waits until a run has been up this long.
    local_app_id_delay_seconds: float = 20.0
    #: Interface a local driver and its UI bind to.
    driver_bind_address: str = "127.0.0.1"

    spark_home: Path | None = None
    java_home: Path | None = None

    #: Names this server among those sharing a database (it owns the local runs it
    #: launched); default: host name and data_dir. Set a fixed one where the host name
    #: changes on restart (a Kubernetes Deployment's pod).
    instance_id: str | None = None

    # Kubernetes backend
    #: Offer the kubernetes backend (also on when default_backend is "kubernetes").
    kube_enabled: bool = False
    kube_namespace: str = "default"
    kube_image: str = "apache/spark:4.0.1-python3"
    #: "client": the driver is the Job's pod; "cluster": spark-submit there with a k8s:// master.
    kube_mode: str = "client"
    kube_master: str = "k8s://https://kubernetes.default.svc"
    kube_service_account: str | None = None
    #: Image of the init container that fetches large files (needs curl and a numeric
    #: non-root USER); None means the run's Spark image.
    kube_fetch_image: str | None = None
    kube_ttl_seconds_after_finished: int = 3600
    #: Keep a failed run's pods this long for debugging before cleanup removes them.
    kube_keep_failed_hours: float = 24.0
    #: A run whose pod stays pending longer than this fails.
    kube_start_timeout_seconds: int = 600
    #: Longest life of a run's download token (it also ends when the run ends).
    kube_download_token_seconds: int = 3600

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sparkjobs.db').resolve()}"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"
