"""tiny-analytics pipeline: one entry per stage, run the same way by Jenkins, CI and a laptop."""
