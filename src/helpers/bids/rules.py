"""The input contract's fixed values: columns, conditions, the rating scale, plausible voxel sizes."""

from __future__ import annotations

SCS_COLUMNS = [f"scs_{i:02d}" for i in range(1, 27)]
#: Events columns used by the book; ``rating`` and ``word`` are optional.
EVENT_COLUMNS = ["onset", "duration", "trial_type", "rating", "word"]
REQUIRED_EVENT_COLUMNS = ["onset", "duration", "trial_type"]
#: The paper's conditions (a parameter of every chapter).
CONDITIONS = ("negative", "neutral", "positive")
#: The paper's rating scale (How do you feel? 1–4).
RATING_RANGE = (1, 4)
#: Plausible voxel sizes of an MRI image in mm (below: metres or centimetres written as mm; above: not a
#: brain image of this kind of study).
VOXEL_MM = (0.2, 10.0)
