"""The packaged stages: `sls package` templates, cfn-lint, checkov, the zip's contents,
`make peel` and `make migration-status`."""
