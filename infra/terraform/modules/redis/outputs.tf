output "primary_endpoint" {
  description = "Primary endpoint address."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "url" {
  description = "REDIS_URL for the functions: TLS (rediss://) with the AUTH token."
  value       = "rediss://:${var.auth_token}@${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/${var.database}"
  sensitive   = true
}

output "auth_token_parameter_name" {
  description = "SSM parameter holding the AUTH token."
  value       = aws_ssm_parameter.auth_token.name
}
