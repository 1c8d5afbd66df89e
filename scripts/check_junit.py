"""Read pytest's JUnit XML and fail on skipped, failed or errored tests, or on none at all.

Usage: python scripts/check_junit.py build/junit.xml   (used by .ci/run; stdlib only)
The last line it prints is the run's summary: `junit: N passed, N failed, N skipped`."""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(path: str) -> int:
    if not Path(path).is_file():
        print(f"junit: {path} is missing: pytest did not run to the end")
        return 1
    cases = ET.parse(path).getroot().iter("testcase")
    passed, failed, skipped = [], [], []
    for case in cases:
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
        elif case.find("skipped") is not None:
            reason = case.find("skipped").get("message", "")
            skipped.append(f"{name} ({reason})" if reason else name)
        else:
            passed.append(name)
    for name in skipped:
        print(f"junit: SKIPPED {name}")
    for name in failed:
        print(f"junit: FAILED {name}")
    problems = []
    if not passed and not failed and not skipped:
        problems.append("no test ran")
    if skipped:
        problems.append(f"{len(skipped)} skipped (CI has every service: a skip hides a test)")
    if failed:
        problems.append(f"{len(failed)} failed or errored")
    print("junit: " + ("; ".join(problems) if problems else "OK, nothing skipped"))
    print(f"junit: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/junit.xml"))
