"""Developer tools: the ``crm`` command line, the local stack and its helpers.

Nothing here is deployed; Lambda code never imports this package.
"""
