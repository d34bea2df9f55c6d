"""tlkit: pinned source builds, a curated patch series and sm_120 verification for TileLang."""

__version__ = "0.1.0"
