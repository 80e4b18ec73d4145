"""The revisions in migrations/versions, read from the scripts (a new migration changes no test),
and a revision written for a test into a copy of the project."""

import shutil
from pathlib import Path

from alembic.script import ScriptDirectory

from app.revisions import migration_scripts
from harness.stack import ROOT


def revisions() -> list[str]:
    """Every revision, oldest first."""
    scripts = migration_scripts()
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def head() -> str:
    return revisions()[-1]


def before(revision: str) -> str:
    """The revision `revision` revises."""
    return str(migration_scripts().get_revision(revision).down_revision)


def pending_from_empty() -> str:
    """What /readyz, the CLI and the doctor name for a database never migrated."""
    return ", ".join(revisions())


def copy_project(folder: Path, parts=("app", "rdsctl", "migrations")) -> Path:
    for part in parts:
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def head_of(project: Path) -> str:
    """The head of the copy `project`'s migrations, read now (they may have grown)."""
    return str(ScriptDirectory(str(project / "migrations")).get_current_head())


def write_revision(project: Path, name: str, upgrade: str, imports: str = "") -> Path:
    """One more revision after the copy `project`'s head, whose upgrade() runs the Python
    lines in `upgrade` (op is alembic's)."""
    body = "\n".join(f"    {line}" for line in upgrade.strip().splitlines())
    path = project / "migrations" / "versions" / f"{name}.py"
    path.write_text(
        f'"""A revision a test wrote."""\nfrom alembic import op\n{imports}\n\n'
        f'revision = "{name}"\ndown_revision = "{head_of(project)}"\nbranch_labels = None\n'
        f"depends_on = None\n\n\ndef upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n"
    )
    return path
