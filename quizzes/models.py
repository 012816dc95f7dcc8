"""Models of the learning engine (card states, attempts, review log). None yet."""
