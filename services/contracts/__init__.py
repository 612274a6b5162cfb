"""The only code the services share: event envelope and schemas, topic names, workflow contract.

Nothing here does I/O; every module may be imported from workflow code.
"""
