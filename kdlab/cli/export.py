"""``export``: a saved student as an ONNX file, for any ONNX runtime (no kdlab, no PyTorch)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kdlab.cli.common import UserError, log
from kdlab.i18n import N_, _
from kdlab.ml.export import INPUT_NAME, OUTPUT_NAME, load_student_file, onnx_bytes
from kdlab.ml.files import write_atomically

HELP = N_("export a saved student (distill --save-student F.pt) as ONNX")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("weights", help=_("a student file from 'distill --save-student', or a lab weights download"))
    parser.add_argument("--onnx", required=True, metavar="FILE", help=_("the ONNX file to write"))
    parser.add_argument(
        "--arch",
        help=_("the architecture, for a bare state dict (the lab's weights download); a student file names it"),
    )
    parser.add_argument("--json", action="store_true", help=_("print one JSON object on stdout"))


def run(args: argparse.Namespace) -> dict:
    target = Path(args.onnx)
    if not target.parent.is_dir():
        raise UserError(
            _("cannot write {file}: the folder {folder} does not exist").format(file=target, folder=target.parent)
        )
    model, architecture = load_student_file(args.weights, args.arch)
    blob = onnx_bytes(model)
    try:
        write_atomically(target, lambda file: file.write(blob))
    except OSError as error:
        raise UserError(_("cannot write {file}: {error}").format(file=target, error=error.strerror)) from None
    log(
        f"Wrote {target} ({len(blob):,} bytes): {architecture}, input '{INPUT_NAME}' float32 (N, 1, 28, 28) "
        f"in [0, 1], output '{OUTPUT_NAME}' (N, 10)."
    )
    return {"architecture": architecture, "onnx": str(target), "onnx_bytes": len(blob)}
