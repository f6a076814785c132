#!/usr/bin/env python3
"""Drafts an extension upgrade script: the blocks of the new install script (as `cargo pgrx
schema` writes them, between "begin/end connected objects" markers) that the old one does not
have, ignoring the source-location comments. Review the draft: a block that changed rather than
appeared (a new overload in a shared block, a new field) needs a hand-written statement instead.

    scripts/extension_upgrade_sql.py pg_extension/sql/pg_ab--0.1.0.sql pg_ab--0.2.0.sql
"""
import re
import sys

BLOCK = re.compile(r"/\* <begin connected objects> \*/\n(.*?)/\* </end connected objects> \*/", re.S)
LOCATION = re.compile(r"^-- [\w/]+\.rs:\d+\n", re.M)


def blocks(path):
    with open(path) as f:
        return [LOCATION.sub("", b).strip() for b in BLOCK.findall(f.read())]


old, new = (blocks(p) for p in sys.argv[1:3])
known = set(old)
for block in new:
    if block not in known:
        print(block, end="\n\n")
