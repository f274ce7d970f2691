resource "aws_elasticache_subnet_group" "this" {
  name       = var.name_prefix
  subnet_ids = var.subnet_ids
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name_prefix
  description                = "Emotionfy sessions, token denylist, login limits, caches, idempotency records"
  engine                     = "redis"
  engine_version             = var.engine_version
  node_type                  = var.node_type
  port                       = 6379
  num_cache_clusters         = 1 + var.replicas
  automatic_failover_enabled = true
  multi_az_enabled           = true
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [var.security_group_id]
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  auth_token                 = var.auth_token
  snapshot_retention_limit   = var.snapshot_retention_days
  auto_minor_version_upgrade = true
  apply_immediately          = false
}

resource "aws_ssm_parameter" "auth_token" {
  name        = "/${var.name_prefix}/redis-auth-token"
  description = "ElastiCache AUTH token (for operators; the functions get it inside REDIS_URL)"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = var.auth_token
}
