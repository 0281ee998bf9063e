"""Helpers for the lesson pages (comparison printouts, plots, Keras set-up). Not part of scratchnn."""
