"""The derived layer: marts rebuilt from the staging relations, and the analysts' views."""
