#!/usr/bin/env python3
"""Checks that a merged report's explored map and covered edges are the union of its shards'.

Usage: check_union.py MERGED.json SHARD.json...

Decodes each report's `exploration.explored_map` and `exploration.covered_edges` (base64
bit sets, REPORT_FORMATS.md), ORs the shards' and checks that the merged sets are those
unions and that `bitmap_bits` and `edges_covered` count them. Prints one line,
`bitmap_bits U (largest shard S) edges_covered U (largest shard S)`, and exits 1 with the
reason on a mismatch.
"""
import base64
import json
import sys


def sets(path):
    exploration = json.load(open(path))["exploration"]
    return [
        (bytes(base64.b64decode(exploration[key], validate=True)), exploration[count])
        for key, count in (("explored_map", "bitmap_bits"), ("covered_edges", "edges_covered"))
    ]


def bits(data):
    return sum(bin(byte).count("1") for byte in data)


def main():
    merged = sets(sys.argv[1])
    shards = [sets(path) for path in sys.argv[2:]]
    line = []
    for which, name in enumerate(("bitmap_bits", "edges_covered")):
        union = bytearray(len(merged[which][0]))
        for shard in shards:
            if len(shard[which][0]) != len(union):
                sys.exit(f"{name}: a shard's set has another size")
            for i, byte in enumerate(shard[which][0]):
                union[i] |= byte
            if bits(shard[which][0]) != shard[which][1]:
                sys.exit(f"{name}: a shard's count is not its set's size")
        if bytes(union) != merged[which][0]:
            sys.exit(f"{name}: the merged set is not the union of the shards'")
        if bits(union) != merged[which][1]:
            sys.exit(f"{name}: {merged[which][1]} in the merge, the union has {bits(union)}")
        line.append(f"{name} {bits(union)} (largest shard {max(s[which][1] for s in shards)})")
    print(" ".join(line))


if __name__ == "__main__":
    main()
