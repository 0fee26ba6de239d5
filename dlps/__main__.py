"""Command line of the course data layer.

    python -m dlps status             # which registry files are present and verified
    python -m dlps stage [DATASET...] # fetch and verify them (all by default)
    python -m dlps kit-readme DIR     # write the instructions file of a workshop kit

Set DLPS_DATA to choose the folder (e.g. a workshop kit being prepared).
"""

import argparse
import sys

from . import data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlps", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="list registry files and whether each is present and verified")
    stage = sub.add_parser("stage", help="fetch and verify datasets into the data directory")
    stage.add_argument("datasets", nargs="*", choices=[[], *data.DATASETS], metavar="DATASET",
                       help=f"any of: {', '.join(data.DATASETS)} (default: all)")
    readme = sub.add_parser("kit-readme", help="write README.txt into a staged workshop kit")
    readme.add_argument("kit", help="the folder that `stage` filled")
    args = parser.parse_args(argv)

    if args.command == "kit-readme":
        path = data.write_kit_readme(args.kit)
        print(f"wrote {path}")
        return 0
    print(f"Course data directory: {data.data_dir()}")
    if args.command == "status":
        report = {relpath: data.file_status(relpath) for relpath, entry in data.REGISTRY.items()
                  if data.DATASETS[entry.dataset].kit
                  or data.file_status(relpath) != "missing"}
    else:
        report = data.stage_all(args.datasets or None)
    width = max(map(len, report))
    for relpath, state in report.items():
        print(f"  {relpath:<{width}}  {state}")
    failed = [r for r, state in report.items() if not state.startswith("ok")]
    print(f"{len(report) - len(failed)} of {len(report)} files ready.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
