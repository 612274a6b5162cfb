"""The only code the services share: event envelope and schemas, topic names, workflow contract, legal time
(`legal_time`) and the working-day calendar (`working_days`).

Nothing here does I/O; every module may be imported from workflow code.
"""
