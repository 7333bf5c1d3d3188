"""End-to-end tests: real servers (`make run`'s, serverless-offline), newman with the public
RealWorld collection, the schemathesis fuzz gate, concurrent writers."""
