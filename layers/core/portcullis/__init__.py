"""Portcullis core: domain services, crypto and storage shared by every Lambda function."""
