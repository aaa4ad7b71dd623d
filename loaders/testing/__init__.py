"""Test and demo support: the replay server of recorded responses and fault points.

Not used on a production load path except where a fault point is armed by its environment
variable (tests only)."""
