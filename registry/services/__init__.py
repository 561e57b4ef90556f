"""Use cases: one function per thing a user does, each in one unit of work.

The HTTP routes and the command line are thin and call these same functions.
"""
