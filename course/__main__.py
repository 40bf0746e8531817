"""``python -m course``: generate exercises, autograde submissions, list and validate assignments."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import EXERCISES, SOLUTIONS


def _cmd_generate(args: argparse.Namespace) -> int:
    from .generate import generate

    changes = generate(args.solutions, args.exercises, check=args.check)
    for ch in changes:
        print(f"{'would ' if args.check else ''}{ch.action} {ch.path}")
        if args.check and ch.diff:
            print(ch.diff[:4000])
    if args.check and changes:
        print(f"{args.exercises} is out of date: run `python -m course generate`", file=sys.stderr)
        return 1
    n = len(list(args.solutions.glob("*.ipynb")))
    print(f"{args.exercises}: {n} exercise(s) {'up to date' if not changes else 'written'}")
    return 0


def _cmd_autograde(args: argparse.Namespace) -> int:
    from .autograde import grade_all, write_csv, write_feedback

    if not args.submissions.is_dir():
        print(f"{args.submissions} is not a folder of <student>/<NN_name>.ipynb", file=sys.stderr)
        return 2
    # Absolute from here on: the worker runs in another folder, in another process.
    out = args.out.resolve()
    feedback = (args.feedback or args.out.parent / "feedback").resolve()
    work = (args.work or args.out.parent / "autograded").resolve()
    results = grade_all(args.submissions.resolve(), args.solutions.resolve(), work,
                        cell_timeout=args.cell_timeout, notebook_timeout=args.timeout,
                        jobs=args.jobs, assignments=args.assignment)
    write_csv(results, out)
    write_feedback(results, feedback)
    for r in results:
        extra = "" if r.status == "ok" else f"  [{r.status}] {r.note}"
        print(f"{r.student:<20} {r.assignment:<28} {r.points:g}/{r.max_points:g}{extra}")
    print(f"grades: {args.out}   feedback: {feedback}/")
    failed = [r for r in results if r.status == "error"]
    if failed:
        print(f"{len(failed)} notebook(s) could not be graded (the grader failed, not the student):",
              file=sys.stderr)
        for r in failed:
            print(f"  {r.student}/{r.assignment}: {r.note}", file=sys.stderr)
        return 1
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .autograde import load_assignments
    from .cells import dumps, is_manual, read_notebook

    for name, a in load_assignments(args.solutions).items():
        ex = args.exercises / f"{name}.ipynb"
        manual = sum(is_manual(c) for c in a.solution.cells)
        if not ex.exists():
            state = "no exercise yet"
        elif dumps(a.exercise) == dumps(read_notebook(ex)):
            state = "exercise up to date"
        else:
            state = "exercise out of date"
        print(f"{name:<28} {len(a.tests):>2} tests {a.max_points:>5g} points"
              f"{f' (+{manual} by hand)' if manual else ''}   {state}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .validate import validate

    problems = validate(args.solutions)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in {args.solutions}")
    return 1 if problems else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .nbgrader_export import export

    names = export(args.solutions, args.course_dir)
    print(f"{args.course_dir}: {len(names)} assignment(s) and nbgrader_config.py; next, there:")
    print("  nbgrader generate_assignment --all --force")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    p.add_argument("--solutions", type=Path, default=SOLUTIONS, help="instructor notebooks")
    p.add_argument("--exercises", type=Path, default=EXERCISES, help="generated student notebooks")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="regenerate exercises/ from solutions/")
    g.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything differs")
    g.set_defaults(func=_cmd_generate)

    a = sub.add_parser("autograde", help="grade SUBMISSIONS/<student>/<NN_name>.ipynb")
    a.add_argument("submissions", type=Path)
    a.add_argument("--out", type=Path, default=Path("grades") / "grades.csv",
                   help="grades CSV to write (default: grades/grades.csv)")
    a.add_argument("--feedback", type=Path, help="feedback folder (default: next to --out)")
    a.add_argument("--work", type=Path, help="graded copies (default: autograded/ next to --out)")
    a.add_argument("--assignment", action="append", help="grade only this one (repeatable)")
    a.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell")
    a.add_argument("--timeout", type=float, default=300.0, help="seconds per notebook")
    a.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                   help="notebooks executed at once")
    a.set_defaults(func=_cmd_autograde)

    ls = sub.add_parser("list", help="assignments, tests, points and exercise status")
    ls.set_defaults(func=_cmd_list)

    v = sub.add_parser("validate", help="check the nbgrader metadata of solutions/")
    v.set_defaults(func=_cmd_validate)

    e = sub.add_parser("nbgrader-export", help="lay solutions/ out as an nbgrader course folder")
    e.add_argument("course_dir", type=Path)
    e.set_defaults(func=_cmd_export)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
