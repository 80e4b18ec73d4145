#!/bin/sh
# The migrate init container: wait for the database (bounded), then upgrade it to the head.
# Exits non-zero, with the reason, if the database never answers or a migration fails.
set -eu
flask wait-db --timeout "${MIGRATE_WAIT_TIMEOUT:-60}"
if [ "${MIGRATE_MODE:-apply}" = reviewed ]; then
    # A shared target (make deploy-env): show the SQL and apply only once confirmed.
    exec flask upgrade-reviewed
fi
exec flask db upgrade
