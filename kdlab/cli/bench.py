"""``bench``: our loop against the PyTorch tutorial's, the matmul peak, and the default demo."""

from __future__ import annotations

import argparse

import torch

from kdlab.classroom.lessons import LessonError, lessons_dir, load_lesson
from kdlab.cli.classroom import MODES, classroom_lines, lesson_lines, run_classroom, run_lesson
from kdlab.cli.common import UserError, add_data_arguments, log, progress_printer
from kdlab.cli.timing import run_benchmark
from kdlab.i18n import N_, _
from kdlab.ml.data import load_mnist
from kdlab.ml.train import pick_device

HELP = N_("time our loop against the PyTorch tutorial's and run the default demo; or a class at once (classroom)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "suite",
        nargs="?",
        choices=("loop", "classroom"),
        default="loop",
        help=_("loop (default): our loop, the demo, the teachers; classroom: a class pressing Train at once"),
    )
    parser.add_argument("--students", type=int, default=30, help=_("classroom: students in the class (default: 30)"))
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="lesson",
        help=_("classroom: lesson (one seed, T from 1 to 20) or free (a seed each); default: lesson"),
    )
    parser.add_argument(
        "--script",
        action="store_true",
        help=_(
            "classroom: one more machine tries to fill the queue and the class board meanwhile (localhost only: "
            "in this process, no network)"
        ),
    )
    parser.add_argument(
        "--skip-replay", action="store_true", help=_("leave out the quick table replay (it trains for minutes)")
    )
    parser.add_argument(
        "--lesson",
        metavar="SLUG",
        help=_(
            "classroom: the class follows this lesson's lab steps (a file name in lessons/ without .md, e.g. "
            "3-too-cold-too-hot), each step's links dealt round the room; --mode is then not used"
        ),
    )
    add_data_arguments(parser)


def _lesson(slug: str):
    path = lessons_dir() / f"{slug}.md"
    if not path.is_file():
        names = ", ".join(sorted(file.stem for file in lessons_dir().glob("*.md")))
        raise UserError(f"--lesson {slug!r} is not a lesson; choose one of: {names}")
    try:
        return load_lesson(path)
    except LessonError as error:
        raise UserError(str(error)) from error


def run(args: argparse.Namespace) -> dict:
    data = load_mnist(args.data_dir)
    if args.suite == "classroom":
        if args.students < 1:
            raise UserError(f"--students must be at least 1 (got {args.students})")
        log(f"Data: {data.source.label}; device: {pick_device()}")
        if args.lesson:
            report = run_lesson(data, _lesson(args.lesson), args.students, on_event=progress_printer)
            for line in lesson_lines(report):
                log(line)
            return report
        report = run_classroom(data, args.mode, args.students, on_event=progress_printer, script=args.script)
        for line in classroom_lines(report):
            log(line)
        return report
    log(f"Data: {data.source.label}; device: {pick_device()}; torch threads: {torch.get_num_threads()}")
    report = run_benchmark(data, on_event=progress_printer, with_replay=not args.skip_replay)
    for line in report_lines(report):
        log(line)
    return report


def report_lines(report: dict) -> list[str]:
    """The benchmark report as text for a terminal."""
    epoch, throughput, demo = report["epoch"], report["throughput"], report["demo"]
    config = demo["config"]
    lines = [
        f"\nOne distillation epoch ({epoch['images']:,} images, teacher {epoch['teacher']}, student "
        f"{epoch['student']}, batch {epoch['batch_size']}):",
        f"  kdlab loop     {epoch['kdlab_seconds']:8.2f} s",
        f"  tutorial loop  {epoch['tutorial_seconds']:8.2f} s   -> {epoch['speedup']:.1f}x faster "
        f"({epoch['speedup_counting_teacher_logits_in_one_epoch']:.1f}x counting the one-time teacher pass of "
        f"{epoch['teacher_logits_once_seconds']:.2f} s)",
        f"  student training: {throughput['student_samples_per_second']:,} samples/s, "
        f"{throughput['student_training_gflops']} GFLOP/s = {throughput['fraction_of_matmul_peak']:.0%} of the "
        f"measured matmul peak ({throughput['matmul_peak_gflops']} GFLOP/s)",
        f"\nDefault demo ({config['train_size']:,} training images, {config['epochs']} epochs, "
        f"T = {config['temperature']}, alpha = {config['alpha']}):",
        f"  teacher {demo['teacher']['arch']:<10} {demo['teacher']['test_accuracy']:.2%}  "
        f"{demo['teacher']['test_errors']} errors",
    ]
    for name, label in (("baseline", "student alone"), ("distilled", "distilled")):
        lines.append(f"  {label:<17} {demo[name]['test_accuracy']:.2%}  {demo[name]['test_errors']} errors")
    lines.append(f"  distilled makes {demo['fewer_errors_than_baseline']:.1%} fewer errors")
    for timing in demo["timing"].values():
        lines.append(
            f"  both students on {timing['threads']} thread(s): {timing['seconds']:.1f} s = steps "
            f"{timing['steps_seconds']:.1f} s + evaluations {timing['evaluation_seconds']:.1f} s + overhead "
            f"{timing['overhead_seconds']:.1f} s ({timing['curve_points']} curve points)"
        )
    lines.append("\nTeacher training throughput (batch 128, all threads):")
    for teacher in report["teachers"]:
        jitter = f", jitter +-{teacher['jitter_pixels']}" if teacher["jitter_pixels"] else ""
        lines.append(
            f"  {teacher['arch']:<11}{jitter:<12} {teacher['samples_per_second']:>7,} samples/s, "
            f"{teacher['gflops']} GFLOP/s = {teacher['fraction_of_matmul_peak']:.0%} of the matmul peak"
        )
    replay = report["replay_table"]
    if replay:
        for case, timing in replay.items():
            lines.append(
                f"Quick table replay, {case.replace('_', ' ')}: {timing['seconds']:.0f} s (teacher "
                f"{timing['teacher_errors']}, alone {timing['student_alone_errors']}, distilled "
                f"{timing['distilled_errors']} errors)"
            )
    return lines
