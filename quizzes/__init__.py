"""Learning: card states, attempts, review log, scheduling, grading tasks."""
