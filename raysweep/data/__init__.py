"""Data: GoEmotions (the retrofitting corpus), downstream tasks, and tokenise-once caching."""

from raysweep.data.goemotions import GoEmotions, LabeledTexts, load_goemotions, resolve_data_dir

__all__ = ["GoEmotions", "LabeledTexts", "load_goemotions", "resolve_data_dir"]
