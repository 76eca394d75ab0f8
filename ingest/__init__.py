"""Text -> typed units: the resolution parser and its domain objects."""

from .parser import BUNDLED_PATH, PARSER_VERSION, parse_text
from .readers import parse_file
from .sources import expand_sources
from .units import Document, Kind, Lang, Unit, unit_label
from .versions import merge_versions

__all__ = [
    "BUNDLED_PATH",
    "PARSER_VERSION",
    "Document",
    "Kind",
    "Lang",
    "Unit",
    "expand_sources",
    "merge_versions",
    "parse_file",
    "parse_text",
    "unit_label",
]
