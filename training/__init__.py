"""Training for new staff: deterministic self-check quizzes (``training.quiz``) and reader helpers
(``training.outline``), built from the ingested documents — no index, no LLM."""
