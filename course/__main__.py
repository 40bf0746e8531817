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
    from .autograde import grade_all, load_assignments, select
    from .gradebook import load_results, merge, num, paths, save_results

    if not args.submissions.is_dir():
        print(f"{args.submissions} is not a folder of <student>/<NN_name>.ipynb", file=sys.stderr)
        return 2
    # Absolute from here on: the worker runs in another folder, in another process.
    out = args.out.resolve()
    work = (args.work or args.out.parent / "autograded").resolve()
    full = load_assignments(args.solutions)
    select(full, args.assignment, args.solutions)  # an unknown name stops here, before grading
    deadlines, overrides = _policies(args, {a: {p.grade_id: p.points for p in t.parts()}
                                            for a, t in full.items()})

    def progress(r, done: int, total: int) -> None:
        extra = "" if r.status == "ok" else f"  [{r.status}] {r.note}"
        print(f"[{done:>{len(str(total))}}/{total}] {r.student}/{r.assignment}: "
              f"{num(r.autograded)}/{num(r.max_points)} in {r.seconds:.1f} s{extra}", flush=True)

    batch = grade_all(args.submissions.resolve(), args.solutions.resolve(), work,
                      cell_timeout=args.cell_timeout, notebook_timeout=args.timeout,
                      jobs=args.jobs, assignments=args.assignment,
                      only_students=args.student, on_result=progress, loaded=full)
    missing = batch.missing()
    n = len(batch.results) - sum(map(len, missing.values()))
    print(f"graded {n} notebook(s) in {batch.seconds:.1f} s with {args.jobs} job(s): "
          f"{n / max(batch.seconds, 1e-9):.2f} notebooks/s")
    if batch.unsubmitted:
        print(f"not graded (no student handed them in): {', '.join(batch.unsubmitted)}")
    if missing:
        print(f"missing work (0 points in the grades), {len(missing)} student(s):")
        for student, names in missing.items():
            print(f"  {student}: {', '.join(names)}")
    for student, files in batch.ignored.items():
        print(f"ignored in {student}/: {', '.join(files)}")
    results = batch.results
    json_path = paths(out)["json"]
    if args.assignment or args.student:
        results = merge(load_results(json_path), results)  # a re-grade of a part adds up
    save_results(results, json_path)
    _publish(args, results, deadlines, overrides)
    failed = [r for r in batch.results if r.status == "error"]
    if failed:
        print(f"{len(failed)} notebook(s) could not be graded (the grader failed, not the student):",
              file=sys.stderr)
        for r in failed:
            print(f"  {r.student}/{r.assignment}: {r.detail}", file=sys.stderr)
        return 1
    return 0


def _cmd_grades(args: argparse.Namespace) -> int:
    from .gradebook import load_results, paths

    json_path = paths(args.out.resolve())["json"]
    results = load_results(json_path)
    if not results:
        print(f"no grading run in {json_path}: run `python -m course autograde` first",
              file=sys.stderr)
        return 2
    parts: dict[str, dict[str, float]] = {}
    for r in results:
        parts.setdefault(r.assignment, {p.grade_id: p.points for p in r.parts})
    deadlines, overrides = _policies(args, parts)
    _publish(args, results, deadlines, overrides)
    return 0


def _policies(args: argparse.Namespace, parts: dict[str, dict[str, float]]):
    """The deadlines and overrides named by ``args`` or found beside ``--out``; checked."""
    from .deadlines import load_deadlines
    from .overrides import check_overrides, load_overrides

    found = {}
    for name, default in (("deadlines", "deadlines.toml"), ("overrides", "overrides.csv")):
        given = getattr(args, name)
        if given is not None and not given.is_file():
            raise SystemExit(f"--{name} {given}: no such file")
        beside = args.out.parent / default
        found[name] = given or (beside if beside.is_file() else None)
        if found[name]:
            print(f"{name}: {found[name]}")
    overrides = load_overrides(found["overrides"])
    problems = check_overrides(overrides, parts)
    if problems:
        raise SystemExit("\n".join(problems))
    return load_deadlines(found["deadlines"]), overrides


def _publish(args: argparse.Namespace, results: list, deadlines, overrides) -> None:
    """Write the CSVs and feedback from ``results``; list late work."""
    from .feedback import write_feedback
    from .gradebook import finalize, num, write_grades

    feedback = args.feedback or args.out.parent / "feedback"
    grades = [finalize(r, overrides, deadlines) for r in results]
    graded = {(r.student, r.assignment) for r in results}
    for (student, assignment, _), o in overrides.items():
        if (student, assignment) not in graded:
            print(f"warning: {o.where}: {student}/{assignment} was never graded; not applied")
    files = write_grades(grades, args.out)
    write_feedback(grades, feedback, show_hidden=args.show_hidden_tests)
    late = [g for g in grades if g.late]
    if late:
        print(f"late work ({len(late)}):")
        for g in late:
            print(f"  {g.result.student}/{g.result.assignment}: {g.hours_late:.1f} h late, "
                  f"-{num(g.penalty)} points")
    pending = sum(g.ungraded for g in grades)
    if pending:
        print(f"{pending} hand-graded answer(s) have no score yet (see overrides in the guide)")
    print("grades: " + ", ".join(str(p) for k, p in files.items() if k != "json")
          + f"; feedback: {feedback}/")


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
    print(f"{args.course_dir}: {len(names)} assignment(s) and nbgrader_config.py; next:")
    print(f"  cd {args.course_dir}")
    # nbgrader 0.9 generates one assignment per call (no --all)
    for name in names:
        print(f"  nbgrader generate_assignment {name} --force")
    return 0


def _cores() -> int:
    """The cores this process may use (a container's limit, where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _grade_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("grades") / "grades.csv",
                   help="grades CSV to write (default: grades/grades.csv); the other CSVs, "
                   "grades.json and feedback/ go beside it")
    p.add_argument("--feedback", type=Path, help="feedback folder (default: next to --out)")
    p.add_argument("--deadlines", type=Path,
                   help="due dates and late policy, TOML (default: deadlines.toml next to --out)")
    p.add_argument("--overrides", type=Path,
                   help="scores set by hand, CSV (default: overrides.csv next to --out)")
    p.add_argument("--show-hidden-tests", action="store_true",
                   help="show the failing line of a hidden test in the feedback (default: hide)")


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
    a.add_argument("--work", type=Path, help="graded copies (default: autograded/ next to --out)")
    a.add_argument("--assignment", action="append",
                   help="grade only this one (repeatable); merged into the existing grades")
    a.add_argument("--student", action="append",
                   help="grade only this student (repeatable); merged into the existing grades")
    a.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell")
    a.add_argument("--timeout", type=float, default=300.0, help="seconds per notebook")
    a.add_argument("--jobs", type=int, default=_cores(),
                   help="notebooks executed at once (default: the number of cores)")
    _grade_options(a)
    a.set_defaults(func=_cmd_autograde)

    gr = sub.add_parser("grades", help="rewrite grades and feedback (after editing overrides "
                        "or deadlines) without running anything")
    _grade_options(gr)
    gr.set_defaults(func=_cmd_grades)

    ls = sub.add_parser("list", help="assignments, tests, points and exercise status")
    ls.set_defaults(func=_cmd_list)

    v = sub.add_parser("validate", help="check the nbgrader metadata of solutions/")
    v.set_defaults(func=_cmd_validate)

    e = sub.add_parser("nbgrader-export", help="lay solutions/ out as an nbgrader course folder")
    e.add_argument("course_dir", type=Path)
    e.set_defaults(func=_cmd_export)

    args = p.parse_args(argv)
    try:
        rc = args.func(args)
        sys.stdout.flush()  # inside the try: a reader that stopped early is not an error
        return rc
    except BrokenPipeError:  # `python -m course list | head` closed the pipe: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
