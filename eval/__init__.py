"""Evaluation harness: question sets, retrieval/citation/answer metrics, baselines and reports."""

from .dataset import DEV_PATH, HELDOUT_PATH, Dataset, EvalItem, load_dataset
from .scoring import Report, build_report

__all__ = ["DEV_PATH", "HELDOUT_PATH", "Dataset", "EvalItem", "Report", "build_report", "load_dataset"]
