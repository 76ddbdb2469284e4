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
from kdlab.i18n import N_, _, language_from_environment, use_language
from kdlab.ml.data import DataError
from kdlab.settings import SettingsError, current_settings

# name -> (help (a message, or a function that writes it), add_arguments(parser), run(args) -> JSON-ready dict)
COMMANDS = {
    "data": (core.DATA_HELP, core.add_data_command_arguments, core.run_data),
    "teacher": (core.TEACHER_HELP, core.add_teacher_arguments, core.run_teacher),
    "distill": (core.DISTILL_HELP, core.add_distill_arguments, core.run_distill),
    "export": (export.HELP, export.add_arguments, export.run),
    "bench": (bench.HELP, bench.add_arguments, bench.run),
    "replay": (replay.command_help, replay.add_arguments, replay.run),
    "schemes": (schemes.HELP, schemes.add_arguments, schemes.run),
    "prepare": (prepare.HELP, prepare.add_arguments, prepare.run),
    "instructor-link": (instructor.HELP, instructor.add_arguments, instructor.run),
    "worksheet": (worksheet.HELP, worksheet.add_arguments, worksheet.run),
}


# argparse's own words come from gettext's default domain, which has no catalogue for them: kdlab's catalogue
# translates these (argparse's msgids), and _Parser and _Formatter put them where argparse would. Its error
# messages ("the following arguments are required: ...") stay English.
USAGE, POSITIONALS, OPTIONS = N_("usage: "), N_("positional arguments"), N_("options")
HELP_OPTION = N_("show this help message and exit")


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, _(USAGE) if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs | {"add_help": False, "formatter_class": _Formatter})
        self._positionals.title, self._optionals.title = _(POSITIONALS), _(OPTIONS)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=_(HELP_OPTION))

    def error(self, message: str) -> None:  # one line instead of usage + message
        command = self.prog.split()[-1]
        where = "python -m kdlab" + ("" if command == "kdlab" else f" {command}")
        raise UserError(_("{message} (see: {command} --help)").format(message=message, command=where))


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, its help in the current language."""
    parser = _Parser(prog="kdlab", description=_("Knowledge-distillation lab on MNIST."))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help_text, add_arguments, _run) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=help_text() if callable(help_text) else _(help_text)))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    use_language(language_from_environment())  # LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as gettext reads them
    try:
        args = build_parser().parse_args(argv)
        current_settings()  # a bad KDLAB_* variable stops every command, even one that does not read it
        summary = COMMANDS[args.command][2](args)
    except (UserError, DataError, SettingsError, ValueError) as error:
        print(_("kdlab: error: {error}").format(error=error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("kdlab: interrupted"), file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary, allow_nan=False, default=str))
    return 0
