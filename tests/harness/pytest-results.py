#!/usr/bin/env python3
"""tests/harness/pytest-results.py JUNIT-XML LOG OUT ID...: the kernel pytest run's results, as
run-kernel-tests.sh prints them: one `PASS  lvs-py::ID (N s)` or `FAIL ...` line per ID asked
for, the output of each failure, then "PASSED FAILED" written to OUT and the failed labels after
it, one a line. An ID missing from the report (pytest died, or never ran it) is a failure, and
then pytest's own output (LOG) is shown."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main() -> int:
    xml, log, out, *ids = sys.argv[1:]
    cases = {}
    try:
        for case in ET.parse(xml).getroot().iter("testcase"):
            path = case.get("classname", "").replace(".", "/") + ".py"
            cases[f"{path}::{case.get('name')}"] = case
    except (OSError, ET.ParseError) as e:
        print(f"no pytest report ({xml}: {e})")
    passed, failed, shown_log = 0, [], False
    for test_id in ids:
        label = f"lvs-py::{test_id}"
        case = cases.get(test_id)
        problems = [] if case is None else [c for c in case if c.tag in ("failure", "error", "skipped")]
        seconds = "?" if case is None else f"{float(case.get('time', '0')):.0f}"
        if case is not None and not problems:
            passed += 1
            print(f"PASS  {label} ({seconds} s)")
            continue
        failed.append(label)
        print(f"FAIL  {label} ({seconds} s)")
        print(f"----- output of {label} -----")
        if case is None:
            print("not in pytest's report")
            if not shown_log:
                print(Path(log).read_text(errors="replace"))
                shown_log = True
        for child in case if case is not None else []:
            if child.tag in ("failure", "error", "skipped", "system-out", "system-err"):
                print(f"[{child.tag}] {child.get('message', '')}")
                print(child.text or "")
        print(f"----- end of {label} -----")
    # Anything else in the report with an error (pytest's own "internal" error) fails the run.
    for case_id, case in cases.items():
        if case_id not in ids and any(c.tag in ("failure", "error") for c in case):
            label = f"lvs-py::{case_id}"
            failed.append(label)
            print(f"FAIL  {label}")
            for child in case:
                print(f"[{child.tag}] {child.get('message', '')}\n{child.text or ''}")
    Path(out).write_text("".join(f"{line}\n" for line in [f"{passed} {len(failed)}", *failed]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
