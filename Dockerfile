# Two images from one file: `runtime` (the default, the last stage) is gunicorn serving
# app:create_app() and nothing else; `migrate` adds the operator package rdsctl, whose
# `rdsctl migrate` waits for the database and applies the migrations (reviewed on RDS).
# The base image is named literally, so Dependabot can propose its updates (it does not read
# an ARG in FROM). Behind a registry mirror, configure the Docker engine's mirror (README).

FROM python:3.12-slim AS build
# aws.txt adds boto3, for a stack pointed at RDS (docker/compose.rds.yml).
ARG REQUIREMENTS=app.txt
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements/${REQUIREMENTS} /tmp/requirements.txt
# Every dependency pinned with its hash; wheels only, so no compiler is needed.
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: -r /tmp/requirements.txt

FROM python:3.12-slim AS base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    FLASK_APP=app.cli:app_for_the_command_line
RUN useradd --system --uid 10001 --user-group --home-dir /srv --no-create-home app
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
# The app reads migrations/ at run time too: /readyz names pending revisions.
COPY app/ app/
COPY migrations/ migrations/
# The instance folder holds only a SQLite file, which the image never uses, but must be writable.
RUN mkdir instance && chown app:app instance
USER 10001:10001

# make debug: the app under debugpy (and Flask's server: one process, so a breakpoint stops the
# request that hits it), for an editor to attach to. Never the image that ships.
FROM base AS debug
USER root
COPY requirements/debug.txt /tmp/debug.txt
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: --no-deps -r /tmp/debug.txt \
    && rm /tmp/debug.txt
USER 10001:10001
EXPOSE 8000 5678
CMD ["python", "-m", "debugpy", "--listen", "0.0.0.0:5678", "-m", "flask", "run", "--host", "0.0.0.0", "--port", "8000", "--no-reload"]

FROM base AS migrate
COPY rdsctl/ rdsctl/
CMD ["python", "-m", "rdsctl", "migrate"]

FROM base AS runtime
COPY docker/gunicorn.conf.py docker/
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["gunicorn", "--config", "docker/gunicorn.conf.py", "app:create_app()"]
