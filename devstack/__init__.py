"""The whole product on one machine, on real servers bound to loopback (`make run`, and the tests).

redis-server, SecantusDB (MongoDB wire protocol), moto's server (S3, notifications, Step Functions running
the repository's ASL file; Lambda invocations call our handlers in-process) and Chalice's local API server.
Not deployed: the cloud runs the same handlers on Lambda (see infra/terraform).
"""
