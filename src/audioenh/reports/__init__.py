"""The generalization report: presets, the experiment grid, tables and figures."""
