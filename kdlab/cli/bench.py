"""``bench``: our loop against the PyTorch tutorial's, the matmul peak, and the default demo."""

from __future__ import annotations

import argparse

import torch

from kdlab.bench import run_benchmark
from kdlab.cli.common import add_data_arguments, log, progress_printer
from kdlab.data import load_mnist
from kdlab.train import pick_device

HELP = "time our loop against the PyTorch tutorial's and run the default demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    data = load_mnist(args.data_dir)
    log(f"Data: {data.source.label}; device: {pick_device()}; torch threads: {torch.get_num_threads()}")
    report = run_benchmark(data, on_event=progress_printer)
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
        row = demo[name]
        lines.append(f"  {label:<17} {row['test_accuracy']:.2%}  {row['test_errors']} errors  ({row['seconds']:.1f} s)")
    lines.append(
        f"  distilled makes {demo['fewer_errors_than_baseline']:.1%} fewer errors; both student trainings took "
        f"{demo['student_trainings_seconds']:.1f} s"
    )
    return lines
