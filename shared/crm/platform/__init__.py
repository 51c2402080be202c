"""The platform: the only code that names an AWS service (table codec and typed write errors, clients,
config, clock, queues, events, signing, field types).
"""
