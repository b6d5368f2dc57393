"""Training: configuration, the plateau schedule, validation and the loop."""
