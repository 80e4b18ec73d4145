"""rdsctl: the operator's tools for RDS. Not part of the running service.

`python -m rdsctl COMMAND` (the Makefile's doctor, deploy-env and rds-* targets): check a
database target, point the Compose stack at RDS, create and remove a development instance,
and apply reviewed migrations from the migrate container. It imports the app's settings and
migration state, never the other way round, and it runs when the app's settings are broken.
"""
