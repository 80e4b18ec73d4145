"""app/aws.py: AWS's errors as one line of cause and one of fix, lasting or not."""

import pytest

from app import aws, create_app
from tests.support.databases import settings_for


def test_region_from_endpoint():
    assert aws.region_of("db.abc123.eu-west-1.rds.amazonaws.com") == "eu-west-1"
    assert aws.region_of("localhost") is None


def test_a_profile_whose_helper_is_not_here_is_a_lasting_error_naming_the_way_out():
    explained = aws.explain(FileNotFoundError(2, "No such file or directory", "aws-vault"), "read")
    assert explained.lasting
    assert "login failed" in explained.cause and "export-credentials" in explained.fix
    mfa = aws.explain(EOFError(), "read")
    assert mfa.lasting and "asks for an MFA code" in mfa.cause


@pytest.fixture
def helper_not_here(tmp_path, monkeypatch):
    """A profile as aws-vault writes it, whose helper this machine (a container) lacks."""
    config = tmp_path / "config"
    config.write_text(
        "[profile vaulted]\nregion = eu-west-1\n"
        "credential_process = /nonexistent/aws-vault export --format=json vaulted\n"
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_PROFILE", "vaulted")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_a_profile_that_cannot_log_in_here_is_an_aws_error_not_a_traceback(helper_not_here):
    with pytest.raises(aws.AWSError) as failed:
        aws.read_secret("arn:aws:secretsmanager:eu-west-1:1:secret:x", "eu-west-1")
    assert failed.value.lasting and "export-credentials" in failed.value.fix


def test_the_api_answers_503_with_retry_after_when_the_password_cannot_be_had(
    helper_not_here, caplog
):
    settings = settings_for("sqlite://").replace(
        database_url=None,
        db_host="db.invalid",
        db_user="app",
        aws_region="eu-west-1",
        db_password_secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:x",
    )
    response = create_app(settings).test_client().get("/api/items")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "database_unavailable"
    lines = [r for r in caplog.records if r.name == "app.errors"]
    assert len(lines) == 1 and "export-credentials" not in lines[0].getMessage()
    assert "login failed" in lines[0].getMessage()
