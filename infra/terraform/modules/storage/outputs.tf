output "uploads_bucket" {
  description = "Name of the uploads bucket (EMOTIONFY_UPLOADS_BUCKET)."
  value       = module.uploads.id
}

output "uploads_bucket_arn" {
  description = "ARN of the uploads bucket."
  value       = module.uploads.arn
}

output "access_log_bucket" {
  description = "Name of the bucket receiving S3 server access logs."
  value       = module.access_logs.id
}
