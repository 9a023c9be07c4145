"""The domain of Songnuan, no Flask anywhere in it.

states.py holds the tables (states, roles, triggers, actions, transitions, tasks) as data; models.py the records,
with the rules that decide one case and select many as hybrids. rules/ says what may happen, verbs/ makes it happen
(each verb audited, never committing), reads/ are the read models of the screens and the API, infra/ the database,
the clock, the audit chain, files on disk and the outbox.
"""
