"""Logging to standard output, configured before the app is created."""

import logging.config

QUIET = ("botocore", "boto3", "urllib3", "s3transfer")


def configure_logging(level: str = "INFO") -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "default": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"}
            },
            "handlers": {
                "stdout": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stdout",
                    "formatter": "default",
                }
            },
            "root": {"level": level.upper(), "handlers": ["stdout"]},
            # At DEBUG, botocore logs response bodies: a secret's value among them. These
            # stay at WARNING whatever LOG_LEVEL says.
            "loggers": {name: {"level": "WARNING"} for name in QUIET},
        }
    )
