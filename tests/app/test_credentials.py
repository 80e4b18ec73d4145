"""app/credentials.py's logic alone: the retry window's tries, IAM over a secret."""

import pymysql
import pytest

from app.credentials import IAMToken, Login, connect_with
from app.settings import Settings


@pytest.mark.parametrize(("window", "tries"), [(1.0, [0, 0, 0.25, 0.75, 1.0]), (0.0, [0, 0])])
def test_a_refused_login_is_tried_again_until_the_window_closes(window, tries):
    """Backoff from 0.25 s, the last try at the window's end, not one sleep short of it (which
    gave up after 0.75 s of a 1 s window); a window of 0 is one retry."""
    now, tried = [0.0], []

    class Refused:
        retry_window = window

        def login(self):
            return Login(None, "old")

        def candidates(self):
            return [Login(None, "old")]

        def accepted(self, login):
            raise AssertionError("nothing was accepted")

    def connect(**params):
        tried.append(now[0])
        raise pymysql.err.OperationalError(1045, "Access denied")

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(pymysql.err.OperationalError):
        connect_with(Refused(), connect, sleep=sleep, clock=lambda: now[0])(host="h")
    assert tried == tries


def test_iam_wins_over_a_secret():
    """With both set, a password (the master's, from its secret) is never sent."""
    from sqlalchemy.engine import make_url

    from app.credentials import provider_for

    settings = Settings(
        db_iam_auth=True, db_password_secret_arn="arn:x", db_tls="verify-full", db_tls_ca=__file__
    )
    assert isinstance(provider_for(settings, make_url("mysql+pymysql://u@h/d")), IAMToken)
