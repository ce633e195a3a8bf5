"""What buyers mention: topics grouped from the clauses of published reviews in the multilingual
space, each with a buyer's own phrase as its label, counted figures and verbatim quotes."""
