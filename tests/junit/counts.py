"""JUnit readers count what the runner counted.

    python3 tests/junit/counts.py JUNIT.xml RUNNER_OUTPUT.txt

RUNNER_OUTPUT is what `cargo test` (libtest's `test result:` line) or
`cargo nextest run` (its `Summary` line) printed. junitparser -- the reader
GitLab-style CI uses -- must count, from the testcases and from the suite
attributes alike: tests = passed + failed + skipped, failures + errors =
failed, skipped = ignored (libtest) or skipped (nextest). Exits non-zero on
any disagreement.
"""
import re, sys

import junitparser


def junit_counts(path):
    xml = junitparser.JUnitXml.fromfile(path)
    suites = [xml] if isinstance(xml, junitparser.TestSuite) else list(xml)
    counted = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    attrs = dict.fromkeys(counted, 0)
    for suite in suites:
        for case in suite:
            counted["tests"] += 1
            kinds = {type(r).__name__ for r in case.result}
            if "Failure" in kinds:
                counted["failures"] += 1
            elif "Error" in kinds:
                counted["errors"] += 1
            elif "Skipped" in kinds:
                counted["skipped"] += 1
        for k in attrs:
            attrs[k] += int(getattr(suite, k) or 0)
    return counted, attrs


def runner_counts(text):
    libtest = [l for l in text.splitlines() if l.startswith("test result:")]
    if libtest:
        line = libtest[-1]
        skip_word = "ignored"
    else:
        nextest = [l for l in text.splitlines() if l.strip().startswith("Summary")]
        if not nextest:
            sys.exit("no libtest or nextest summary line in the runner output")
        line = nextest[-1]
        skip_word = "skipped"

    def n(word):
        m = re.search(r"(\d+) " + word, line)
        return int(m.group(1)) if m else 0

    return {"passed": n("passed"), "failed": n("failed"), "skipped": n(skip_word)}, line


def main():
    junit, output = sys.argv[1], open(sys.argv[2], encoding="utf-8", errors="replace").read()
    counted, attrs = junit_counts(junit)
    runner, line = runner_counts(output)
    print(f"the runner said: \"{line.strip()}\"")
    print(f"junitparser testcases: {counted}")
    print(f"junitparser suite attributes: {attrs}")
    problems = []
    if counted != attrs:
        problems.append("testcases and suite attributes disagree")
    if counted["tests"] != runner["passed"] + runner["failed"] + runner["skipped"]:
        problems.append("tests != passed + failed + skipped")
    if counted["failures"] + counted["errors"] != runner["failed"]:
        problems.append("failures + errors != failed")
    if counted["skipped"] != runner["skipped"]:
        problems.append("skipped differs")
    if problems:
        sys.exit("BAD: " + "; ".join(problems))
    print("ok: junitparser counts what the runner counted")


if __name__ == "__main__":
    main()
