"""Labelled corpora for ``bench/detectors.py``: built at bench time, nothing large is committed."""
