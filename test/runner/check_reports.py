#!/usr/bin/env python3
"""Checks a runner's JSON and JUnit reports the way a CI system reads them.

Usage: check_reports.py [--json PATH] [--junit PATH] [--expect-failing N] [--interrupted]

JSON: read as strict UTF-8 and parsed by Python's json module; valid against
runtime/runner/report.schema.json (the subset of JSON Schema it uses is checked here:
type, enum, required, properties, items, pattern, minimum); the counts agree with each other, and every failing
seed carries a reproduction line.
JUnit: parsed by xml.etree; the common JUnit shape (testsuites > testsuite > testcase, with
tests/failures/errors counts matching the cases, a failure or error element carrying a
message) holds. Prints one line per problem and exits 1 when there is any.
"""
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

problems = []


def need(condition, what):
    if not condition:
        problems.append(what)


SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "runtime",
                      "runner", "report.schema.json")
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
         "number": (int, float), "integer": int}


def validate(value, schema, where):
    """The subset of JSON Schema report.schema.json uses: type, enum, required, properties,
    items, pattern, minimum."""
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        ok = any(isinstance(value, TYPES[k]) and not (k in ("integer", "number") and
                                                     isinstance(value, bool)) for k in kinds)
        need(ok, f"json schema: {where} is not {kinds}")
        if not ok:
            return
    if "enum" in schema:
        need(value in schema["enum"], f"json schema: {where} = {value!r} not in {schema['enum']}")
    if "pattern" in schema and isinstance(value, str):
        need(re.search(schema["pattern"], value), f"json schema: {where} does not match "
             f"{schema['pattern']}")
    if "minimum" in schema and isinstance(value, (int, float)):
        need(value >= schema["minimum"], f"json schema: {where} below {schema['minimum']}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            need(name in value, f"json schema: {where}.{name} missing")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                validate(value[name], sub, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{where}[{i}]")


def check_json(path, expect_failing, interrupted):
    with open(path, encoding="utf-8", errors="strict") as f:
        report = json.load(f)
    with open(SCHEMA, encoding="utf-8") as f:
        validate(report, json.load(f), "report")
    fields = {"format": str, "version": int, "name": str, "build_id": str, "verdict": str,
              "interrupted": bool, "passed": bool, "exit_code": int, "totals": dict,
              "seeds": list, "seeds_not_kept": int, "failing_seeds": list,
              "failing_seeds_not_kept": int, "faults": dict, "metrics": dict,
              "buggify": list, "assertions": dict}
    for name, kind in fields.items():
        need(isinstance(report.get(name), kind), f"json: field {name} missing or not {kind}")
    if problems:
        return
    need(report["format"] == "moonpool.run_report", "json: format")
    need(report["version"] >= 2, "json: version")
    totals = report["totals"]
    need(totals["passed"] + totals["failed"] == totals["seeds"], "json: totals disagree")
    failing = report["failing_seeds"]
    need(len(failing) + report["failing_seeds_not_kept"] == totals["failed"],
         "json: failing seeds do not add up to totals.failed")
    for seed in failing:
        need(seed.get("reproduce"), f"json: failing seed {seed.get('seed')} has no reproduce")
    if expect_failing is not None:
        need(totals["failed"] >= expect_failing,
             f"json: {totals['failed']} failing seeds, expected at least {expect_failing}")
    need(report["interrupted"] == interrupted, "json: interrupted flag")
    if interrupted:
        need(report["verdict"] == "interrupted" and report["exit_code"] == 130,
             "json: verdict/exit code of an interrupted run")
    elif totals["failed"] > 0:
        need(report["verdict"] == "fail" and report["exit_code"] == 1, "json: verdict")
    elif report["verdict"] == "fail":
        need(report["exit_code"] == 3, "json: a fail without failing seeds is a coverage gap")


def check_junit(path):
    root = ET.parse(path).getroot()
    need(root.tag == "testsuites", "junit: root is not testsuites")
    suites = root.findall("testsuite")
    need(len(suites) >= 1, "junit: no testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        need(int(suite.get("tests", "-1")) == len(cases), "junit: tests count")
        failures = sum(1 for c in cases if c.find("failure") is not None)
        errors = sum(1 for c in cases if c.find("error") is not None)
        need(int(suite.get("failures", "-1")) == failures, "junit: failures count")
        need(int(suite.get("errors", "-1")) == errors, "junit: errors count")
        float(suite.get("time", "x"))
        for case in cases:
            need(case.get("name") and case.get("classname"), "junit: testcase without names")
            for bad in case.findall("failure") + case.findall("error"):
                need(bad.get("message") is not None, "junit: failure without message")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--junit")
    parser.add_argument("--expect-failing", type=int)
    parser.add_argument("--interrupted", action="store_true")
    args = parser.parse_args()
    try:
        if args.json:
            check_json(args.json, args.expect_failing, args.interrupted)
        if args.junit:
            check_junit(args.junit)
    except (ValueError, ET.ParseError, OSError) as error:  # UnicodeDecodeError is a ValueError
        problems.append(f"{type(error).__name__}: {error}")
    for problem in problems:
        print(problem)
    print("reports ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
