"""``python -m minitf.datasets fetch|verify mnist|fashion_mnist [--force]``."""

from __future__ import annotations

import argparse
import sys

from . import fashion_mnist, mnist
from ._cache import DatasetError, data_dir

MODULES = {"mnist": mnist, "fashion_mnist": fashion_mnist}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m minitf.datasets", description=__doc__)
    parser.add_argument("command", choices=["fetch", "verify"])
    parser.add_argument("dataset", choices=sorted(MODULES))
    parser.add_argument("--force", action="store_true", help="fetch again even if cached")
    args = parser.parse_args(argv)
    module = MODULES[args.dataset]
    try:
        if args.command == "fetch":
            r = module.fetch(force=args.force)
            how = "already cached and verified" if r.route == "cache" else f"route: {r.route}"
            print(f"{args.dataset}: {r.path} ({how}; {r.seconds:.1f} s)")
        else:
            info = module.verify()
            print(f"{args.dataset}: OK ({info['matched']} matched)")
            for key, value in info.items():
                print(f"  {key}: {value}")
    except DatasetError as e:
        print(f"{args.dataset}: {e}\n(cache directory: {data_dir()})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
