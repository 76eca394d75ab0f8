"""Answers with validated citations: question -> rewrite -> retrieve -> prompt -> chat model -> checked Answer."""

from .assistant import Assistant, QuestionTooLongError, Retriever, clean_question
from .types import Answer, Citation, Timings, Turn

__all__ = ["Answer", "Assistant", "Citation", "QuestionTooLongError", "Retriever", "Timings", "Turn", "clean_question"]
