"""Changes, the differ, ordering, the plan file and the safety rules."""
