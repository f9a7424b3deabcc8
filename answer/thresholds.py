"""Every tunable number of the extractive answerer, in one place.

Calibrated on the questions in ``tests/test_answer_corpus.py`` (and the gold set's smoke items):
raise ``RELEVANT_COVERAGE`` and honest "not found" answers get more frequent; lower it and near misses
start to be treated as relevant. Coverage values are IDF-weighted fractions of the question's subject
terms (0..1) found in a passage (breadcrumb included) or in one sentence/clause.
"""

from __future__ import annotations

# --- input -------------------------------------------------------------------------------------
MAX_QUESTION_CHARS = 500          # longer questions are cut to this many characters (with a note)
MIN_CONTENT_CHARS = 1             # letters/digits/CJK needed for a question to be usable

# --- retrieval ---------------------------------------------------------------------------------
CANDIDATE_HITS = 10               # passages fetched from the retriever before answer selection
MAX_CITATIONS = 8                 # citations shown for an ordinary answer
MAX_LIST_CITATIONS = 12           # citations for a list answer (one per item + the main-text mention)

# --- relevance (is a passage about the question's subject?) ------------------------------------
RELEVANT_COVERAGE = 0.62          # chunk coverage at or above this → relevant passage
PENALTY_RELEVANT_COVERAGE = 0.50  # penalty questions describe the behaviour in their own words; a law
                                  # article that covers half of them and has a fine amount is evidence
MISSING_TERM_MAX_SHARE = 0.25     # a passage missing a term that carries this share of the question's
                                  # IDF mass is not relevant (铊 missing → a passage about 危废 is not about 铊)
WEAK_MAX_MISSING = 2              # not_specified: at most this many subject terms may be the missing detail
                                  # (设在 + 城市; 挂牌 + 成立) when the rest is clearly about the passage
WEAK_SUBJECT_SHARE = 0.45         # not_specified without a fully relevant passage: the terms present must
                                  # carry at least this share of the IDF mass (the missing one is the detail)
MERGE_MAX_CHARS = 4               # adjacent question words are merged into one term (环境+日 → 环境日) when
                                  # the corpus contains the merged form and it is at most this long
KEY_SUBTERM_MAX_DF = 30           # rare parts of the question terms (铊 of 铊污染) select related passages
RARE_PART_MAX_RATIO = 4           # …when at most this many times as frequent as the rarest part
RELATED_KEY_COVERAGE = 0.30       # passages containing a key term with at least this coverage are "related"
NEAR_MISS_COVERAGE = 0.30         # shown as a near miss (not_found answers) only above this
DENSE_RELEVANT = 0.86             # dense cosine that makes a passage relevant when the question has no
                                  # usable lexical terms (e.g. English words missing from the glossary)
DENSE_NEAR_MISS = 0.80

# --- slot (does a sentence state the asked-for detail?) ----------------------------------------
SLOT_CLAUSE_COVERAGE = 0.55       # a figure/who clause must cover this much of the subject
SLOT_SENTENCE_COVERAGE = 0.50     # penalty/when/definition sentence (or its passage) coverage
OPEN_SENTENCE_COVERAGE = 0.70     # open / yes-no questions: best sentence must cover this much
YESNO_POLARITY_BONUS = 0.10      # yes/no: a sentence saying 不得/应当/不需要/可以 beats a near-equal one
PARTIAL_TERM_CREDIT = 0.67        # share of a long term's bigrams present to give it half credit

# --- composition -------------------------------------------------------------------------------
MAX_QUOTE_CHARS = 220             # a quoted sentence longer than this is cut around the slot
MAX_QUOTES = 3                    # quoted sentences in an ordinary answer
