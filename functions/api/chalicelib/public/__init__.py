"""What the public reaches: the career site, its forms, the portal, unsubscribe and confirm links, docs."""
