#!/usr/bin/env python3
"""Compares two JSON run reports field by field, except what may differ between a merged
report of shards and one unsharded run of the same seeds.

Usage: compare_reports.py WHOLE.json MERGED.json

Ignored (runtime/runner/include/moonpool/runner/report_merge.h says why):
  - timings: every `wall_s`, `wall_s_to_bug` and rate per wall second, and the run's
    `first_bug_wall_s` (a merge has none: shards run side by side);
  - `merged_shards` (0 for one run, N for a merge);
  - `assertions.discoveries` (each shard discovers on its own: the merge sums them);
  - a site's `first_failure.evaluation` (an ordinal within the shard that saw it).
Prints one line per difference (its path and both values) and exits 1 when there is any.
"""
import json
import sys

TIMINGS = {"wall_s", "wall_s_to_bug", "sim_s_per_wall_s", "seeds_per_s", "steps_per_wall_s"}
IGNORED_PATHS = {".merged_shards", ".assertions.discoveries", ".first_bug_wall_s"}


def ignored(path, key):
    if key in TIMINGS or f"{path}.{key}" in IGNORED_PATHS:
        return True
    return key == "evaluation" and path.endswith(".first_failure")


def diff(whole, merged, path, out):
    if isinstance(whole, dict) and isinstance(merged, dict):
        for key in list(whole) + [k for k in merged if k not in whole]:
            if ignored(path, key):
                continue
            if key not in whole or key not in merged:
                out.append(f"{path}.{key}: only in {'merged' if key in merged else 'whole'}")
                continue
            diff(whole[key], merged[key], f"{path}.{key}", out)
    elif isinstance(whole, list) and isinstance(merged, list):
        if len(whole) != len(merged):
            out.append(f"{path}: {len(whole)} items in whole, {len(merged)} in merged")
            return
        for i, (a, b) in enumerate(zip(whole, merged)):
            diff(a, b, f"{path}[{i}]", out)
    elif whole != merged or type(whole) is not type(merged):
        out.append(f"{path}: whole {whole!r:.100} merged {merged!r:.100}")


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        whole = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        merged = json.load(f)
    out = []
    diff(whole, merged, "", out)
    for line in out:
        print(line)
    # The comparison must have compared something: a report with its seeds and sites.
    if not whole.get("seeds") or not whole.get("assertions", {}).get("sites"):
        print("whole: no seeds or no assertion sites to compare")
        return 1
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
