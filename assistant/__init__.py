"""Answers with validated citations: understand -> retrieve -> select -> read -> write -> check -> compose (assistant.py)."""

from .assistant import Assistant, QuestionTooLongError, Retriever, clean_question
from .types import Answer, Answerer, Citation, Timings, Turn

__all__ = ["Answer", "Answerer", "Assistant", "Citation", "QuestionTooLongError", "Retriever", "Timings", "Turn", "clean_question"]
