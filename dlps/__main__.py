"""Command line of the course helper package: data, workshop self-check, calibration.

    python -m dlps status             # which registry files are present and verified
    python -m dlps stage [DATASET...] # fetch and verify them (all by default)
    python -m dlps kit-readme DIR     # write the instructions file of a workshop kit
    python -m dlps check              # is this machine ready for the workshop? PASS or FAIL
    python -m dlps benchmark [--record FOLDER]   # the self-check's micro-benchmark alone
    python -m dlps calibrate FOLDER...           # write dlps/reference_times.py from run records
    python -m dlps calibrate --run FOLDER        # run every lesson (laptop profile), then write
    python -m dlps calibrate --add FOLDER        # add a lesson timed on its own to that file

Set DLPS_DATA to choose the folder (e.g. a workshop kit being prepared).
"""

import argparse
import json
import os
import sys

from . import data, selfcheck


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
    check = sub.add_parser("check", help="the participant self-check: packages, device, "
                           "Graphviz, data, run-time prediction; ends with PASS or FAIL")
    check.add_argument("--no-benchmark", action="store_true",
                       help="skip the 10-second benchmark and the run-time prediction")
    bench = sub.add_parser("benchmark", help="run the self-check's micro-benchmark alone")
    bench.add_argument("--record", metavar="FOLDER",
                       help=f"append the result to FOLDER/{selfcheck.BENCHMARK_LOG} (a run-log "
                            "folder, for calibrate)")
    calibrate = sub.add_parser("calibrate", help="write the reference run times from the run "
                               "records and benchmark results in run-log folders")
    calibrate.add_argument("folders", nargs="+", help="run-log folders ($DLPS_RUN_LOG of runs)")
    calibrate.add_argument("--run", action="store_true",
                           help="first run every lesson (profile: $DLPS_PROFILE, else laptop) "
                                "with benchmarks, recording into the one FOLDER given")
    calibrate.add_argument("--add", action="store_true",
                           help="add the lessons of FOLDER to the existing reference, their "
                                "times rescaled by the two benchmark scores")
    args = parser.parse_args(argv)

    if args.command == "check":
        passed = selfcheck.self_check(0 if args.no_benchmark else selfcheck.BENCHMARK_SECONDS)
        return 0 if passed else 1
    if args.command == "benchmark":
        result = selfcheck.benchmark()
        print(json.dumps(result, indent=1))
        if args.record:
            print(f"appended to {selfcheck.record_benchmark(args.record, result)}")
        return 0
    if args.command == "calibrate":
        if args.run:
            if len(args.folders) != 1:
                parser.error("calibrate --run records into exactly one folder")
            profile = os.environ.get("DLPS_PROFILE") or "laptop"
            print(f"wrote {selfcheck.run_and_calibrate(args.folders[0], profile)}")
        else:
            print(f"wrote {selfcheck.calibrate(args.folders, add=args.add)}")
        return 0

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
