"""Command line: ``python -m kdlab {data,teacher,distill,export,bench,replay,schemes,prepare,instructor-link,
worksheet} ...``.

The one place that knows the commands: each module here owns one command group's argparse
definition, text report and progress printer, and the library never imports this package.
With ``--json`` a command prints exactly one JSON object on stdout; human-readable progress
always goes to stderr. A user error (bad argument, bad data folder, impossible config) exits
with status 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from kdlab.cli import bench, core, export, instructor, prepare, replay, schemes, worksheet
from kdlab.cli.common import UserError
from kdlab.ml.data import DataError
from kdlab.settings import SettingsError, current_settings

# name -> (help, add_arguments(parser), run(args) -> JSON-ready dict)
COMMANDS = {
    "data": (core.DATA_HELP, core.add_data_command_arguments, core.run_data),
    "teacher": (core.TEACHER_HELP, core.add_teacher_arguments, core.run_teacher),
    "distill": (core.DISTILL_HELP, core.add_distill_arguments, core.run_distill),
    "export": (export.HELP, export.add_arguments, export.run),
    "bench": (bench.HELP, bench.add_arguments, bench.run),
    "replay": (replay.HELP, replay.add_arguments, replay.run),
    "schemes": (schemes.HELP, schemes.add_arguments, schemes.run),
    "prepare": (prepare.HELP, prepare.add_arguments, prepare.run),
    "instructor-link": (instructor.HELP, instructor.add_arguments, instructor.run),
    "worksheet": (worksheet.HELP, worksheet.add_arguments, worksheet.run),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        command = self.prog.split()[-1]
        where = "python -m kdlab" + ("" if command == "kdlab" else f" {command}")
        raise UserError(f"{message} (see: {where} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kdlab", description="Knowledge-distillation lab on MNIST.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        current_settings()  # a bad KDLAB_* variable stops every command, even one that does not read it
        summary = COMMANDS[args.command][2](args)
    except (UserError, DataError, SettingsError, ValueError) as error:
        print(f"kdlab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kdlab: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary, allow_nan=False, default=str))
    return 0
