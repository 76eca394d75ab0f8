"""English renderings of French resolutions, made once per unit, checked, and kept by the unit's content hash.

For the answer engine: `rendering_for(unit)` (or `rendering_of(key, content_hash)`) returns the kept rendering with
its status ("ok" or "flagged", with reasons), or None when there is none for the unit's current text.
"""

from .store import Rendering, RenderingStore, content_hash, rendering_for, rendering_of, store_path

__all__ = ["Rendering", "RenderingStore", "content_hash", "rendering_for", "rendering_of", "store_path"]
