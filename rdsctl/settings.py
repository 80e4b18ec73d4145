"""The operator's settings: what rdsctl's commands read beside the service's (app/settings.py),
from the environment and .env once, each default written here only (.env.example documents
them). Command-line options, where a command has them, win over these."""

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from app.env import load_env_file, parse

DEFAULT_INSTANCE = "flask-rds-dev"
DEFAULT_MASTER_USER = "admin"
FREE_TIER_CLASS = "db.t4g.micro"  # the smallest class RDS offers MySQL on
CA_CERTIFICATE = "rds-ca-rsa2048-g1"  # RDS's default CA since 2024; valid until 2061


class OperatorSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Which instance: the rds-* commands default to DEFAULT_INSTANCE (instance_name), make
    # deploy-env writes the one it was given into .env.rds (make migrate's SNAPSHOT=1 needs it).
    rds_instance: str | None = None
    aws_region: str | None = None  # or AWS_DEFAULT_REGION

    # Where make deploy-env and make rds-users find the database (command-line options win).
    rds_endpoint: str | None = None
    rds_reader_endpoint: str | None = None  # default: an Aurora cluster's reader endpoint
    rds_port: int | None = Field(None, ge=1, le=65535)
    rds_database: str | None = None  # default: MYSQL_DATABASE
    rds_user: str | None = None  # the app's user (default: the one in its secret)
    rds_secret_arn: str | None = None  # the app user's secret (default: make rds-users')
    rds_migrate_secret_arn: str | None = None  # the migrator's (default: make rds-users')
    rds_master_secret_arn: str | None = None  # rds-users: default, the instance's managed one
    rds_iam: bool = False  # the app logs in with IAM tokens
    rds_ca: str | None = None  # a CA bundle (default: AWS's, fetched into .certs/)
    rds_password: str | None = Field(None, repr=False)  # refused: no password is ever written
    rds_env_file: str = ".env.rds"

    # make rds-create: RDS for MySQL (mysql), or an Aurora MySQL Serverless v2 cluster
    # (aurora-mysql) that scales from 0 ACU, pausing after RDS_PAUSE_SECONDS with no connection
    rds_engine: Literal["mysql", "aurora-mysql"] = "mysql"
    rds_max_acu: float = Field(2.0, ge=1, le=256, multiple_of=0.5)
    rds_pause_seconds: int = Field(300, ge=300, le=86400)
    rds_instance_class: str = FREE_TIER_CLASS
    rds_storage_gb: int = Field(20, ge=20, le=65536)
    rds_engine_version: str | None = None  # default: MYSQL_IMAGE's major line
    rds_master_user: str | None = None  # rds-create: admin; rds-users: the instance's
    rds_public: bool = False
    rds_deletion_protection: bool = True
    rds_backup_days: int = Field(1, ge=0, le=35)
    rds_security_group_ids: str | None = None  # comma-separated, groups of yours
    rds_vpc_id: str | None = None
    rds_subnet_group: str | None = None
    rds_require_tls: bool = True
    rds_ca_certificate: str = CA_CERTIFICATE
    # IPV4, or DUAL for IPv6 rules too (the subnet group's subnets need IPv6 ranges).
    rds_network_type: Literal["IPV4", "DUAL"] = "IPV4"
    rds_wait_minutes: int = Field(30, ge=1)
    rds_poll_seconds: float = Field(15.0, gt=0, allow_inf_nan=False)

    # Asked for on the command line of a make target.
    confirm: bool = False  # CONFIRM=yes: no question
    dry_run: bool = False  # rds-create shows its plan only
    snapshot: bool = False  # make migrate on RDS: a snapshot first
    skip_final_snapshot: bool = False  # rds-destroy: the data is gone for good
    my_ip: str | None = None  # rds-allow-my-ip, rds-revoke-my-ip, the doctor
    force: bool = False  # rds-allow-my-ip: a network wider than one address
    rds_rule_days: int | None = Field(None, ge=1, le=365)  # a rule's life; swept when past

    # The local stack, as make up publishes it: the doctor's target without DB_HOST, and the
    # names rds-create and rds-users mirror.
    mysql_image: str = "mysql:8.4"
    mysql_database: str = "app"
    mysql_port: int = Field(3306, ge=1, le=65535)
    app_db_user: str = "app"
    app_db_password: str = Field("app-local-only", repr=False)
    migrator_user: str = "migrator"
    compose_project_name: str = "flask-rds"

    # The migrate container (rdsctl migrate).
    migrate_wait_timeout: int = Field(60, ge=1)
    migrate_mode: Literal["apply", "reviewed"] = "apply"  # reviewed: make deploy-env writes it
    migrate_unrendered: str | None = None  # revisions confirmed unseen: no SQL to show for them

    @property
    def instance_name(self) -> str:
        return self.rds_instance or DEFAULT_INSTANCE

    @property
    def new_master_user(self) -> str:
        """The master user rds-create names."""
        return self.rds_master_user or DEFAULT_MASTER_USER

    def given(self, **options: object) -> Self:
        """These settings with a command's options over them (None or False: not given)."""
        return self.model_copy(update={k: v for k, v in options.items() if v not in (None, False)})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Self:
        import os

        if environ is None:
            load_env_file()
            environ = dict(os.environ)
        return parse(cls, environ, {"aws_region": ("AWS_REGION", "AWS_DEFAULT_REGION")})
