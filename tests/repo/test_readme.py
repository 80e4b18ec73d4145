"""README.md: fits on a screen, links every page of docs/, and its snippets run as written."""

import os
import re
import subprocess
import sys

from harness.stack import ROOT
from tests.support.databases import migrate_database

README = (ROOT / "README.md").read_text()


def test_the_readme_fits_on_a_screen_or_three():
    assert len(README.splitlines()) <= 150


def test_every_docs_page_is_linked_and_says_who_it_is_for():
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in README, f"README does not link docs/{page.name}"
        opening = page.read_text().split("\n\n")[1]
        assert opening.startswith(("For whoever", "For the operator")), page.name


def test_the_dataframe_snippet_runs_from_a_folder_outside_the_repository(tmp_path):
    snippet = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    url = f"sqlite:///{tmp_path / 'items.db'}"
    migrate_database(url)
    script = snippet + "print(len(frame), list(frame.columns)[:2])\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "DATABASE_URL": url, "ENV_FILE": os.devnull},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 ['id', 'name']"
