output "jwt_secret_parameter_name" {
  description = "SSM parameter holding the JWT signing key (EMOTIONFY_JWT_SECRET_PARAM)."
  value       = aws_ssm_parameter.jwt_secret.name
}

output "jwt_secret_parameter_arn" {
  description = "ARN of the JWT signing key parameter."
  value       = aws_ssm_parameter.jwt_secret.arn
}

output "redis_auth_token" {
  description = "ElastiCache AUTH token."
  value       = random_password.redis.result
  sensitive   = true
}

output "mongodb_password" {
  description = "Password of the Atlas database user."
  value       = random_password.mongodb.result
  sensitive   = true
}
