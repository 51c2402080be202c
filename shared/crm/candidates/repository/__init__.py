"""The candidates' repository: the only code that knows the keys of a person's items (``keys``),
reads and writes the person (``candidates``) and their list projections (``projections``).
Other slices use ``crm.candidates.service``, never this package.
"""

from crm.candidates.repository.candidates import CandidateRepository, LostRace
from crm.candidates.repository.projections import ProjectionRepository

__all__ = ["CandidateRepository", "LostRace", "ProjectionRepository"]
