"""Analysis of recordings: where their band ends."""
