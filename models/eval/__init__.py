"""Evaluation: WER/MOS/parity/benchmark tools."""
