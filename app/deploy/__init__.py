"""Deployment verification: the registry of dedicated functions (read from serverless.yml),
the HTTP API event builder and Lambda context double, the smoke checks and the CodeDeploy
lifecycle hooks that run them."""
