"""What a failed command must end with: one line of cause, one line of fix."""


def cause_and_fix(output: str) -> tuple[str, str]:
    """The "Error: ..." line and the "fix: ..." line that end `output`; fails unless they end
    it, once each, with no traceback anywhere."""
    lines = output.rstrip("\n").splitlines()
    assert len(lines) >= 2, output
    cause, fix = lines[-2], lines[-1].strip()
    assert cause.startswith("Error: ") and fix.startswith("fix: "), output
    assert sum(line.startswith("Error:") for line in lines) == 1, output
    assert "Traceback" not in output, output
    return cause, fix
