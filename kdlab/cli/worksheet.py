"""``worksheet``: a lesson's printable worksheet (or the instructor's answer key) as an HTML file."""

from __future__ import annotations

import argparse
from pathlib import Path

from kdlab.classroom.lessons import lessons_dir, load_lessons
from kdlab.classroom.worksheets import worksheet_html
from kdlab.cli.common import UserError, log
from kdlab.i18n import N_, _
from kdlab.ml.files import write_atomically

HELP = N_("write a lesson's printable worksheet (or, with --answers, its answer key) as HTML to print or save as PDF")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lesson", help=_("the lesson's file name without .md, e.g. 2-does-the-teacher-help"))
    parser.add_argument("--answers", action="store_true", help=_("the answer key: adds what to notice and the notes"))
    parser.add_argument("--out", metavar="FILE", help=_("the HTML file to write (default: print it on stdout)"))
    parser.add_argument("--json", action="store_true", help=_("print one JSON object on stdout (needs --out)"))


def run(args: argparse.Namespace) -> dict:
    lessons, _problems = load_lessons(lessons_dir())
    by_slug = {lesson.slug: lesson for lesson in lessons}
    if args.lesson not in by_slug:
        raise UserError(
            _("there is no lesson {lesson}; the lessons are {lessons}").format(
                lesson=repr(args.lesson), lessons=", ".join(by_slug) or _("none")
            )
        )
    page = worksheet_html(by_slug[args.lesson], answers=args.answers)
    if args.out is None:
        if args.json:
            raise UserError(_("--json prints a summary on stdout: give the worksheet a file with --out"))
        print(page, end="")
        return {"lesson": args.lesson, "answers": args.answers}
    target = Path(args.out)
    if not target.parent.is_dir():
        raise UserError(
            _("cannot write {file}: the folder {folder} does not exist").format(file=target, folder=target.parent)
        )
    try:
        write_atomically(target, lambda file: file.write(page.encode("utf-8")))
    except OSError as error:
        raise UserError(_("cannot write {file}: {error}").format(file=target, error=error.strerror)) from None
    log(_("Wrote {file}: open it in a browser and print it (A4), or save it as PDF.").format(file=target))
    return {"lesson": args.lesson, "answers": args.answers, "out": str(target)}
