"""``instructor-link``: a one-time sign-in link for the class board, when the password field is locked."""

from __future__ import annotations

import argparse

from kdlab.classroom.sign_in import MAX_MINUTES, make_sign_in_token, sign_in_url
from kdlab.cli.common import UserError
from kdlab.i18n import N_, _
from kdlab.settings import current_settings

HELP = N_("print a one-time sign-in link for the instructor (signs in once, even where wrong keys locked the board)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default="http://localhost:8501",
        help=_("the app's address as the class opens it (default: http://localhost:8501)"),
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=60.0,
        help=_("how long the link is valid, 1 to {most} (default: 60)").format(most=MAX_MINUTES),
    )
    parser.add_argument("--json", action="store_true", help=_("print one JSON object on stdout"))


def run(args: argparse.Namespace) -> dict:
    """Print the link (on stdout: it is the command's output) and return it for ``--json``."""
    key = current_settings().instructor_key
    if key is None:
        raise UserError(_("KDLAB_INSTRUCTOR_KEY is not set here: run this with the server's settings"))
    token = make_sign_in_token(key, args.minutes)
    url = sign_in_url(args.url, token)
    if not args.json:
        print(url)
    return {"url": url, "minutes": args.minutes}
