#!/bin/sh
# The migrate init container: wait for the database (bounded), then upgrade it to the head.
# Exits non-zero, with the reason, if the database never answers or a migration fails.
set -eu
flask wait-db --timeout "${MIGRATE_WAIT_TIMEOUT:-60}"
exec flask db upgrade
