"""Training check: corpora, data iterators, the grader's loop and perplexity."""
