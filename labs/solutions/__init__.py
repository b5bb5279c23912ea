"""Solutions to the exercises of the labs, kept apart from the notebooks: try the exercise first,
then compare. Each module's file holds functions the notebook's exercise asks for; the test suite
runs every one of them against the workshop's account (tests/labs/test_solutions.py)."""
