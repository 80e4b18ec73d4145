"""The `rdsctl` command: every operator tool, with errors as one line of cause and fix."""

from typing import Any

import click

from app.aws import AWSError
from app.env import ConfigError, load_env_file
from rdsctl.deploy import deploy_env
from rdsctl.destroy import rds_destroy
from rdsctl.doctor import doctor_command
from rdsctl.migrate import migrate_command
from rdsctl.provision import rds_create, rds_start, rds_stop
from rdsctl.rules import rds_allow_my_ip, rds_revoke_my_ip
from rdsctl.settings import OperatorSettings
from rdsctl.users import rds_users


class ToolGroup(click.Group):
    """A bad setting or a failed AWS call ends a command with its cause and fix, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(
                f"{exc}\n  fix: set it in .env or the environment (.env.example lists them)"
            ) from None
        except AWSError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=ToolGroup)
@click.pass_context
def rdsctl(ctx: click.Context) -> None:
    """Check a database, point the stack at RDS, create and remove a development instance."""
    load_env_file()  # under the real environment, which wins
    ctx.obj = OperatorSettings.from_env()  # each command's settings: click.pass_obj


for command in (
    doctor_command,
    deploy_env,
    migrate_command,
    rds_create,
    rds_users,
    rds_allow_my_ip,
    rds_revoke_my_ip,
    rds_stop,
    rds_start,
    rds_destroy,
):
    rdsctl.add_command(command)


def main() -> None:
    rdsctl(prog_name="rdsctl")
