"""The candidates' repository: the only code that knows the keys of a person's items (``keys``),
reads and writes the person (``candidates``), their list projections (``projections``) and
their free-text index (``words``).
Other slices use ``crm.candidates.service``, never this package.
"""

from crm.candidates.repository.candidates import CandidateRepository, LostRace
from crm.candidates.repository.projections import ProjectionRepository
from crm.candidates.repository.words import SearchPage, WordIndexRepository

__all__ = ["CandidateRepository", "LostRace", "ProjectionRepository", "SearchPage", "WordIndexRepository"]
