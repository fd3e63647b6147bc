"""Results: trial records -> leaderboard.csv, trials.csv, comparison.md and plots (atomic writes)."""
