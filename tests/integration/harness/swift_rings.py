"""Build Swift's object/container/account rings: `swift-ring-builder B create 8 1 1`,
`... add r1z1-127.0.0.1:PORT/d1 100`, `... rebalance` for each ring.

Runs the entry point of /usr/bin/swift-ring-builder (swift.cli.ringbuilder.main) nine times in
one interpreter: the same commands, ~0.4 s instead of ~9 s of interpreter start-ups on 2 cores.
usage: /usr/bin/python3 swift_rings.py DIR object=PORT container=PORT account=PORT
"""

import os
import sys

from swift.cli.ringbuilder import EXIT_SUCCESS, EXIT_WARNING, main


def run(*argv: str) -> None:
    print("+ swift-ring-builder", " ".join(argv), flush=True)
    try:
        main(["swift-ring-builder", *argv])
        code = EXIT_SUCCESS
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if code not in (EXIT_SUCCESS, EXIT_WARNING):
        sys.exit(f"swift-ring-builder {' '.join(argv)} failed with {code}")


if __name__ == "__main__":
    os.chdir(sys.argv[1])
    for spec in sys.argv[2:]:
        kind, port = spec.split("=")
        builder = f"{kind}.builder"
        run(builder, "create", "8", "1", "1")
        run(builder, "add", f"r1z1-127.0.0.1:{port}/d1", "100")
        run(builder, "rebalance")
