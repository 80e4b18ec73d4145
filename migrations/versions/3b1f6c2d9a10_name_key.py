"""names compare the same on every engine: a folded key, unique byte for byte

Revision ID: 3b1f6c2d9a10
Revises: 57914ccb74d9
Create Date: 2026-11-25 19:30:00

Before: `name` was unique under the database's collation, so SQLite (binary) and MySQL
(utf8mb4_0900_ai_ci) disagreed about what a duplicate is. After: `name_key` (NFC, trimmed,
case- and accent-folded in Python) carries the only unique index, in utf8mb4_bin on MySQL.
Existing rows get their key; if two existing names fold to one key, nothing is changed and
the upgrade stops, listing them.
"""

import unicodedata
from collections import defaultdict

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql

revision = "3b1f6c2d9a10"
down_revision = "57914ccb74d9"
branch_labels = None
depends_on = None

# Frozen here as they were at this revision: app.models may change, a migration may not.
KEY_TYPE = sa.String(360).with_variant(
    mysql.VARCHAR(360, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def clean_name(name):
    return unicodedata.normalize("NFC", name).strip()


def name_key(name):
    decomposed = unicodedata.normalize("NFD", clean_name(name).casefold())
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


items = sa.table(
    "items", sa.column("id", sa.Integer), sa.column("name", sa.String),
    sa.column("name_key", sa.String),
)


def upgrade():
    bind = op.get_bind()
    offline = context.is_offline_mode()  # --sql, for review: no rows to read
    query = sa.select(items.c.id, items.c.name).order_by(items.c.id)
    rows = [] if offline else bind.execute(query).all()
    by_key = defaultdict(list)
    for item_id, name in rows:
        by_key[name_key(name)].append(f"id {item_id} {name!r}")
    clashes = ["; ".join(group) for group in by_key.values() if len(group) > 1]
    if clashes:  # checked before any DDL: MySQL would commit each statement on its own
        listing = "\n".join(f"  {clash}" for clash in clashes)
        raise SystemExit(
            f"Existing items would share a name once names are folded:\n{listing}\n"
            "Rename all but one item of each group, then run make migrate again."
        )

    # Each step is skipped when done already: MySQL commits DDL one statement at a time, so a
    # run that failed halfway (a lost connection, say) leaves some of it applied.
    done = set() if offline else {c["name"] for c in sa.inspect(bind).get_columns("items")}
    if "name_key" not in done:
        with op.batch_alter_table("items") as batch:
            batch.add_column(sa.Column("name_key", KEY_TYPE, nullable=True))
    if offline:
        op.execute("-- then, for each row: UPDATE items SET name = <trimmed>, name_key = <folded>")
    while rows:  # again for rows an app still running inserted meanwhile, without a key
        for item_id, name in rows:
            cleaned = clean_name(name)
            bind.execute(
                items.update()
                .where(items.c.id == item_id)
                .values(name=cleaned if len(cleaned) <= 120 else name, name_key=name_key(name))
            )
        rows = bind.execute(query.where(items.c.name_key.is_(None))).all()
    uniques = set() if offline else {
        u["name"] for u in sa.inspect(bind).get_unique_constraints("items")
    }
    with op.batch_alter_table("items") as batch:
        batch.alter_column("name_key", existing_type=KEY_TYPE, nullable=False)
        if "uq_items_name_key" not in uniques:
            batch.create_unique_constraint(op.f("uq_items_name_key"), ["name_key"])
        if offline or "uq_items_name" in uniques:
            batch.drop_constraint(op.f("uq_items_name"), type_="unique")


def downgrade():
    with op.batch_alter_table("items") as batch:
        batch.create_unique_constraint(op.f("uq_items_name"), ["name"])
        batch.drop_constraint(op.f("uq_items_name_key"), type_="unique")
        batch.drop_column("name_key")
