"""Portcullis core: domain services, crypto and storage shared by every Lambda function.

Importing it changes nothing global (no environment variables, no collector settings,
no entries in `sys.modules` other than its own modules).
"""
