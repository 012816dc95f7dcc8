"""Verified NumPy math behind every numeric question. No Django import anywhere in this package."""
