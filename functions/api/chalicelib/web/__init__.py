"""The shared HTTP layer: endpoint, problem+json, forms, pages, the OpenAPI document."""
