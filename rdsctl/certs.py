"""The CA bundle a target's TLS is verified against, inside the project's .certs/ (the RDS
override mounts it into the containers), fetched once from AWS when it is not there."""

import shutil
import urllib.request
from pathlib import Path

import click

from rdsctl.aws import is_proxy_endpoint
from rdsctl.login import GET_BUNDLE, GET_PROXY_ROOTS

CA_DIR = Path(".certs")
RDS_BUNDLE = (
    CA_DIR / "rds-global-bundle.pem",
    ["https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"],
)
# RDS Proxy presents an ACM certificate: clients trust Amazon Trust Services' roots. With a
# proxy, migrations still go to the instance's own endpoint: both are in one bundle.
AMAZON_ROOT_URLS = [
    f"https://www.amazontrust.com/repository/{name}.pem"
    for name in ("AmazonRootCA1", "AmazonRootCA2", "AmazonRootCA3", "AmazonRootCA4", "SFSRootCAG2")
]
PROXY_BUNDLE = (CA_DIR / "rds-and-amazon-roots.pem", [*RDS_BUNDLE[1], *AMAZON_ROOT_URLS])


def ca_bundle(given: str | None, host: str = "", *, for_containers: bool = True) -> Path:
    """The bundle to verify `host` with: the one given, else RDS's global bundle, with Amazon
    Trust Services' roots for an RDS Proxy endpoint. For the containers (make deploy-env), a
    path inside the project: a bundle given from elsewhere is copied into .certs/."""
    if given:
        source = Path(given)
        if not source.is_file():
            raise click.ClickException(f"CA bundle {given} not found.\n  fix: {GET_BUNDLE}")
        if not for_containers:
            return source
        if source.resolve().is_relative_to(Path.cwd().resolve()):
            return source.resolve().relative_to(Path.cwd().resolve())
        CA_DIR.mkdir(exist_ok=True)
        shutil.copyfile(source, CA_DIR / source.name)
        return CA_DIR / source.name
    if is_proxy_endpoint(host):
        return fetched(*PROXY_BUNDLE, fix=GET_PROXY_ROOTS)
    return fetched(*RDS_BUNDLE, fix=GET_BUNDLE)


def fetched(path: Path, urls: list[str], fix: str) -> Path:
    """`path`, or the PEM files at `urls` concatenated into it (once)."""
    if path.exists():
        return path
    parts = []
    for url in urls:
        click.echo(f"fetching {url}")
        try:
            with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - fixed https URL
                parts.append(response.read().strip() + b"\n")
        except OSError as exc:
            raise click.ClickException(f"cannot fetch {url} ({exc}).\n  fix: {fix}") from None
    CA_DIR.mkdir(exist_ok=True)
    path.write_bytes(b"".join(parts))
    return path
