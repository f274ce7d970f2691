output "project_id" {
  description = "Atlas project ID."
  value       = mongodbatlas_project.this.id
}

output "uri_parameter_name" {
  description = "SSM SecureString holding the connection string (MONGODB_URI_PARAM)."
  value       = aws_ssm_parameter.uri.name
}

output "uri_parameter_arn" {
  description = "ARN of the connection-string parameter."
  value       = aws_ssm_parameter.uri.arn
}
