#!/usr/bin/env python3
"""Checks that every README code block marked <!-- file: PATH --> is exactly
the content of PATH, so the tutorial cannot drift from the code the suite
builds. Usage: readme_snippets.py ROOT"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
text = (root / "README.md").read_text()
blocks = re.findall(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```", text, re.S)
if len(blocks) < 4:
    sys.exit(f"expected at least 4 quoted files in README.md, found {len(blocks)}")
bad = 0
for path, body in blocks:
    if (root / path).read_text() != body:
        print(f"README.md quotes {path}, but the file differs")
        bad += 1
print(f"{len(blocks) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
