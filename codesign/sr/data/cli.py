"""Standard SR data sets by name.

    python -m codesign.data list
    python -m codesign.data fetch NAME... [--mirror DIR] [--base-url URL]

``fetch`` downloads each set (set5 set14 b100 urban100 manga109 t91 bsd200 291) from its public
source into ``$CODESIGN_DATA`` (default ``~/.cache/codesign/data``), or copies it from a local
``--mirror`` folder laid out as such a data root, checking every file against the sha256 sums
kept in ``data/sr/manifest.csv``; it resumes, writes atomically and keeps what it verified when
a file fails (one ``error:`` line, exit 2). ``list`` says which sets are present and where.
"""
from __future__ import annotations

import argparse

from codesign.sr.data.errors import DataError
from codesign.sr.data.fetch import DEFAULT_BASE_URL, fetch_sets, list_sets
from codesign.sr.data.sets import SETS
from codesign_common.cli import Parser, cli_main


@cli_main(DataError)
def main(argv=None) -> int:
    parser = Parser(prog="python -m codesign.data", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("list", help="which sets are present, and where")
    fetch = sub.add_parser("fetch", help="fetch and verify sets by name")
    fetch.add_argument("names", nargs="+", metavar="NAME", help=", ".join(SETS))
    fetch.add_argument("--mirror", help="take the files from this local folder instead")
    fetch.add_argument("--base-url", default=DEFAULT_BASE_URL,
                       help="where <owner>/<repo>/<commit>/<path> is served")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        fetch_sets(args.names, mirror=args.mirror, base_url=args.base_url)
        return 0
    for row in list_sets():
        state = "present" if row["present"] else "absent "
        print(f"{row['name']:9s} {row['kind']:5s} {state} {row['files']:4d} files "
              f"{row['bytes'] / 1e6:7.1f} MB  {row['where']}")
    return 0
