#!/usr/bin/env python3
"""Sums up the TRX files of a test run: prints each failed test with its message, then the closing
line "N passed, N failed" (", N skipped" when some were skipped) alone on the last line.

    trx-summary.py RESULTS_DIR [DOTNET_TEST_EXIT_CODE]

Exits 0 only when at least one test ran, none failed, and dotnet test itself exited 0. A run that
aborted (a crashed or hung test host) counts as one failure, so the closing line never reads as a
success that was not one. Standard library only.
"""
import pathlib
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
PASSED = {"Passed", "PassedButRunAborted"}
SKIPPED = {"NotExecuted", "Inconclusive", "NotRunnable", "Pending", "Disconnected", "Warning"}
MESSAGE_LINES = 12
STACK_LINES = 6


def text_of(element, path):
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else ""


def clip(text, lines):
    parts = text.splitlines()
    return "\n".join(parts[:lines] + ([f"... ({len(parts) - lines} more lines)"] if len(parts) > lines else []))


def indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.splitlines())


def main():
    results = pathlib.Path(sys.argv[1])
    exit_code = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    passed = failed = skipped = 0
    failures = []
    aborted = []

    files = sorted(results.rglob("*.trx"))
    for trx in files:
        try:
            root = ET.parse(trx).getroot()
        except ET.ParseError as error:
            aborted.append(f"{trx.name}: unreadable results ({error})")
            continue
        source = trx.stem
        for result in root.iter(f"{NS}UnitTestResult"):
            # Data-driven tests report one parent result with inner results; count the inner ones.
            inner = result.find(f"{NS}InnerResults")
            if inner is not None and len(inner):
                continue
            outcome = result.get("outcome", "")
            if outcome in PASSED:
                passed += 1
            elif outcome in SKIPPED:
                skipped += 1
            else:
                failed += 1
                message = text_of(result, f"{NS}Output/{NS}ErrorInfo/{NS}Message")
                stack = text_of(result, f"{NS}Output/{NS}ErrorInfo/{NS}StackTrace")
                failures.append((result.get("testName", "?"), outcome, message, stack))
        # A run whose test host crashed or hung says so in an Error run-info that is not a test's own line.
        infos = [text_of(info, f"{NS}Text") for info in root.iter(f"{NS}RunInfo") if info.get("outcome") == "Error"]
        infos = [i for i in infos if i and not i.startswith("[xUnit.net")]
        summary = root.find(f"{NS}ResultSummary")
        if infos or (summary is not None and summary.get("outcome") in {"Aborted", "Error", "Timeout"}):
            aborted.append(f"{source}: " + (" | ".join(infos) or f"run {summary.get('outcome', '').lower()}"))

    # The blame collector's sequence files name the tests that were running when a host crashed or hung.
    unfinished = {}
    for sequence in sorted(results.rglob("Sequence_*.xml")):
        try:
            tests = ET.parse(sequence).getroot().iter("Test")
        except ET.ParseError:
            continue
        for test in tests:
            if test.get("Completed") == "False":
                unfinished[(test.get("Source", ""), test.get("DisplayName", test.get("Name", "?")))] = sequence

    for name, outcome, message, stack in failures:
        print(f"FAILED {name}" + ("" if outcome == "Failed" else f" ({outcome})"))
        if message:
            print(indent(clip(message, MESSAGE_LINES)))
        if stack:
            print(indent(clip(stack, STACK_LINES)))
    for (_, name) in unfinished:
        print(f"FAILED {name} (did not finish: its test host crashed or hung)")
        failed += 1
    for text in aborted:
        print(f"  test run aborted: {clip(text, MESSAGE_LINES)}")
    if aborted and not unfinished:
        print("FAILED test run: a test host crashed or hung (see above)")
        failed += 1
    if exit_code != 0 and failed == 0:
        print(f"FAILED test run: dotnet test exited with code {exit_code} but its results show no failed test "
              "(a project did not build, a test host crashed, or no results were written); see the output above")
        failed += 1
    if not files:
        print(f"no test results (*.trx) in {results}")
    elif passed + failed + skipped == 0:
        print("no test ran")

    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 and exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
