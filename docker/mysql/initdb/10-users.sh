#!/bin/bash
# Runs once, when the data volume is first created (official image: /docker-entrypoint-initdb.d).
# Two users, as on RDS: the migrator may change the schema of the app's database, with no global
# privilege (RDS's master user has no SUPER either); the app may only read and write rows.
# Sourced by the entrypoint (not executed), so docker_process_sql is defined here.

quote() { printf "'%s'" "${1//\'/\'\'}"; }

docker_process_sql --database=mysql <<SQL
CREATE USER IF NOT EXISTS $(quote "$MIGRATOR_USER")@'%' IDENTIFIED BY $(quote "$MIGRATOR_PASSWORD");
GRANT ALL PRIVILEGES ON \`${MYSQL_DATABASE}\`.* TO $(quote "$MIGRATOR_USER")@'%';
CREATE USER IF NOT EXISTS $(quote "$APP_DB_USER")@'%' IDENTIFIED BY $(quote "$APP_DB_PASSWORD");
GRANT SELECT, INSERT, UPDATE, DELETE ON \`${MYSQL_DATABASE}\`.* TO $(quote "$APP_DB_USER")@'%';
SQL
echo "[initdb] created users $MIGRATOR_USER (schema changes) and $APP_DB_USER (rows only) on $MYSQL_DATABASE"
