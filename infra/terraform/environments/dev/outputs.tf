output "api_url" {
  description = "API base URL (config.json apiUrl; written to the site bucket by Terraform)."
  value       = module.api.url
}

output "site_url" {
  description = "The web app."
  value       = module.site.origin
}

output "site_bucket" {
  description = "Upload the built web app here."
  value       = module.site.bucket
}

output "site_distribution_id" {
  description = "Invalidate after uploading the web app."
  value       = module.site.distribution_id
}

output "uploads_bucket" {
  description = "Uploads bucket (EMOTIONFY_UPLOADS_BUCKET)."
  value       = module.storage.uploads_bucket
}

output "state_machine_arn" {
  description = "Analysis state machine."
  value       = module.pipeline.state_machine_arn
}

output "pipeline_repository_url" {
  description = "ECR repository of the pipeline image: docker push here, then apply with pipeline_image_uri."
  value       = module.registry.repository_url
}

output "function_names" {
  description = "Lambda function per function key."
  value       = module.lambdas.function_names
}

output "jwt_secret_parameter" {
  description = "SSM parameter of the JWT key."
  value       = module.secrets.jwt_secret_parameter_name
}

output "mongodb_uri_parameter" {
  description = "SSM parameter of the Atlas connection string."
  value       = module.atlas.uri_parameter_name
}

output "redis_url" {
  description = "REDIS_URL of the functions (contains the AUTH token)."
  value       = module.redis.url
  sensitive   = true
}

output "nat_public_ips" {
  description = "Source addresses of the functions' internet traffic (the Atlas IP access list)."
  value       = module.network.nat_public_ips
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.monitoring.alarm_topic_arn
}
