"""A person: the candidate record, its timeline, notes, applications, consents, list projections,
intake and erasure.
"""
