"""The hub: the MDS record model, its dictionary, the eligibility rules and the generator."""

__all__: list[str] = []
