"""The second study: compassion training vs memory training (Klimecki et al. 2013), as a twin.

Only the abstract and a few secondary facts of the study are available (book/spec_paper.md), so the
twin's design values are assumptions, kept in one file, ``config.yaml`` (each value marked
[abstract], [secondary] or [assumed]).  Modules:

* :mod:`.design` — the twin: groups, sessions, ratings and participant traits; ``null=True``
  removes every training effect (the null twin); it re-exports the two parts below;
* :mod:`.task` — one run of the Socio-affective Video Task (clip order, timing, run length);
* :mod:`.bold` — BOLD simulated directly in MNI space (reusing the first study's simulator);
* :mod:`.rois` — the study's regions of interest (mOFC, putamen, pallidum, VTA; anterior insula,
  aMCC) from the shipped atlases and a documented sphere;
* :mod:`.pipeline` — simulate and fit every participant's first-level GLMs (parallel, deterministic);
* :mod:`.behaviour` — group x session x video-type mixed ANOVA of the ratings, post-hoc tests;
* :mod:`.glm` — first level, second-level maps with FDR correction, ROI statistics;
* :mod:`.figures` — the chapter's figures (apart, so that a figure style never changes the stage's
  code fingerprint).
"""

from .design import load_config, null_config
from .pipeline import Study, run_study

__all__ = ["load_config", "null_config", "Study", "run_study"]
