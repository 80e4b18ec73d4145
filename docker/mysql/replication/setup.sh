#!/bin/bash
# make up REPLICA=1: makes db-replica a replica of db, once (a copy of the app's database, then
# GTID replication from where the copy was taken); on every run, sets its delay (SOURCE_DELAY)
# and waits until it replicates. Runs in the MySQL image, as the replica-setup service.
set -euo pipefail

if mysqld --version | grep -qi mariadb; then
    echo "[replica] MYSQL_IMAGE is MariaDB, whose GTIDs differ from MySQL's: REPLICA=1 needs a MySQL image" >&2
    exit 1
fi
quote() { printf "'%s'" "${1//\'/\'\'}"; }
export MYSQL_PWD="$MYSQL_ROOT_PASSWORD"
on() { local host=$1; shift; mysql --protocol=tcp -h "$host" -uroot "$@"; }

on db -e "CREATE USER IF NOT EXISTS 'replicator'@'%' IDENTIFIED BY $(quote "$REPLICATION_PASSWORD") REQUIRE SSL;
          GRANT REPLICATION SLAVE ON *.* TO 'replicator'@'%';"

if [ -z "$(on db-replica -e 'SHOW REPLICA STATUS')" ]; then
    echo "[replica] copying $MYSQL_DATABASE from db, then replicating from there"
    on db-replica -e "RESET BINARY LOGS AND GTIDS"
    mysqldump --protocol=tcp -h db -uroot --single-transaction --set-gtid-purged=ON \
        --routines --events --triggers --databases "$MYSQL_DATABASE" | on db-replica
    # The app's user reads the replica's lag (SHOW REPLICA STATUS, app/readers.py); here only.
    on db-replica -e "SET sql_log_bin = 0; GRANT REPLICATION CLIENT ON *.* TO $(quote "$APP_DB_USER")@'%'"
    on db-replica -e "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db', SOURCE_PORT = 3306,
        SOURCE_USER = 'replicator', SOURCE_PASSWORD = $(quote "$REPLICATION_PASSWORD"),
        SOURCE_AUTO_POSITION = 1, SOURCE_SSL = 1"
fi
on db-replica -e "STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_DELAY = ${SOURCE_DELAY:-0}; START REPLICA"

for _ in $(seq 60); do
    running=$(on db-replica -E -e 'SHOW REPLICA STATUS' | grep -cE '^ *Replica_(IO|SQL)_Running: Yes$' || true)
    if [ "$running" = 2 ]; then
        echo "[replica] db-replica replicates db, ${SOURCE_DELAY:-0}s behind on purpose"
        exit 0
    fi
    sleep 1
done
echo "[replica] db-replica does not replicate:" >&2
on db-replica -E -e 'SHOW REPLICA STATUS' | grep -E 'Running|Error' >&2
exit 1
