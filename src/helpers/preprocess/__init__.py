"""Preprocessing of raw BIDS BOLD data into fMRIPrep-style derivatives (issue 7)."""
